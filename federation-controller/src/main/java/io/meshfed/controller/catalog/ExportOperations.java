package io.meshfed.controller.catalog;

import static java.util.Objects.requireNonNull;

import io.meshfed.api.DnsLabel;
import io.meshfed.api.v1.ExportRequest;
import io.meshfed.api.v1.ExportState;
import io.meshfed.controller.errors.InvalidArgumentException;
import io.meshfed.controller.errors.NotFoundException;
import io.meshfed.controller.model.ExportRecord;
import io.meshfed.controller.model.Kind;
import io.meshfed.controller.model.MemberRecord;
import io.meshfed.controller.model.Records;
import io.meshfed.controller.store.Store;
import io.meshfed.controller.store.StoreTransaction;
import java.util.List;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin's export decisions: export a service to members (or all), and withdraw it. The decision covers every
 * member's instances of the service; a cluster's offer (a ServiceExport) is kept beside it, never widening it.
 */
public final class ExportOperations {
    private static final Logger AUDIT = LoggerFactory.getLogger("meshfed.audit");

    private final Store store;

    public ExportOperations(Store store) {
        this.store = requireNonNull(store, "store");
    }

    private static InvalidArgumentException invalid(String message) {
        return new InvalidArgumentException(message);
    }

    private static void checkName(String what, String name) {
        if (!DnsLabel.matches(name)) {
            throw invalid(what + " name '" + name + "' " + DnsLabel.RULE);
        }
    }

    public ExportState export(ExportRequest request) {
        return changeExport(request, true);
    }

    public ExportState unexport(ExportRequest request) {
        return changeExport(request, false);
    }

    private ExportState changeExport(ExportRequest request, boolean add) {
        checkName("service", request.getService());
        String namespace = request.getNamespace().isEmpty() ? "default" : request.getNamespace();
        checkName("namespace", namespace);
        if (!request.getToAll() && request.getToMembersCount() == 0) {
            throw invalid("say whom to " + (add ? "export to" : "withdraw from") + ": --to MEMBER or --all");
        }
        ExportRecord result = store.transact(tx -> {
            for (String m : request.getToMembersList()) {
                if (Records.get(tx, Kind.MEMBER, m, MemberRecord.class).isEmpty()) {
                    throw new NotFoundException("member '" + m + "' does not exist");
                }
            }
            String key = ExportRecord.key(request.getService(), namespace);
            ExportRecord current = Records.get(tx, Kind.EXPORT, key, ExportRecord.class)
                    .orElse(new ExportRecord(request.getService(), namespace, false, List.of()));
            TreeSet<String> members = new TreeSet<>(current.toMembers());
            boolean toAll = current.toAll();
            if (add) {
                members.addAll(request.getToMembersList());
                toAll |= request.getToAll();
            } else {
                members.removeAll(request.getToMembersList());
                toAll &= !request.getToAll();
            }
            // The admin's decision covers every member's instances from now on.
            ExportRecord next = new ExportRecord(request.getService(), namespace, toAll, List.copyOf(members));
            if (next.isEmpty() && current.offeredBy() == null) {
                tx.delete(Kind.EXPORT.storeName(), key, StoreTransaction.ANY);
            } else {
                // Kept when empty over a cluster's offer: "exported to nobody" is then the admin's decision, and a
                // ServiceExport does not bring the offer back.
                Records.put(tx, Kind.EXPORT, key, next, StoreTransaction.ANY);
            }
            return next;
        });
        AUDIT.info("{} {}.{} to all={} members={}", add ? "export" : "unexport", request.getService(), namespace,
                request.getToAll(), request.getToMembersList());
        return exportState(result);
    }

    /** The export decision as the admin API shows it. */
    public static ExportState exportState(ExportRecord e) {
        return ExportState.newBuilder().setService(e.service()).setNamespace(e.namespace()).setToAll(e.toAll())
                .addAllToMembers(e.toMembers()).setOfferedBy(e.offeredBy() == null ? "" : e.offeredBy()).build();
    }
}
