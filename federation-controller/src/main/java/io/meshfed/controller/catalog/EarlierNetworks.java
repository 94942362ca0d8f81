package io.meshfed.controller.catalog;

import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.NetworkRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Networks stored before gateway members existed have none, and so no gateway. At start, a network with exactly
 * one member gets that member, the one a new network would have had (the first member added); a network with
 * several is left for the admin to decide, with a warning naming the command, since picking one of them could make
 * the wrong member's gateway everybody's way in.
 */
public final class EarlierNetworks {
    private static final Logger LOG = LoggerFactory.getLogger(EarlierNetworks.class);

    private EarlierNetworks() {}

    /** Returns how many networks got their only member as gateway member. */
    public static int assignUnambiguousGatewayMembers(Store store) {
        return store.transact(tx -> {
            List<MemberRecord> members = Records.list(tx, Kind.MEMBER, MemberRecord.class);
            int assigned = 0;
            for (NetworkRecord n : Records.list(tx, Kind.NETWORK, NetworkRecord.class)) {
                if (!n.gatewayMembers().isEmpty()) {
                    continue;
                }
                List<String> in = members.stream().filter(m -> m.network().equals(n.name())).map(MemberRecord::name)
                        .sorted().toList();
                if (in.size() == 1) {
                    Records.put(tx, Kind.NETWORK, n.name(), n.withGatewayMembers(in), StoreTransaction.ANY);
                    LOG.info("network {}: its only member {} is now its gateway member", n.name(), in.get(0));
                    assigned++;
                } else if (in.size() > 1) {
                    LOG.warn("network {} has no gateway member, so no gateway; name one of {} with: meshfed network"
                            + " create {} --gateway-member MEMBER", n.name(), in, n.name());
                }
            }
            return assigned;
        });
    }
}
