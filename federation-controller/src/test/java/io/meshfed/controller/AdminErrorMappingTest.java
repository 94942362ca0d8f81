package io.meshfed.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshfed.api.v1.AddMemberRequest;
import io.meshfed.api.v1.AdminServiceGrpc;
import io.meshfed.api.v1.CreateNetworkRequest;
import io.meshfed.api.v1.ListRequest;
import io.meshfed.api.v1.Member;
import io.meshfed.controller.identity.FederationIdentity;
import io.meshfed.controller.server.HttpEndpoint;
import io.meshfed.controller.testing.TestFederation;
import io.meshfed.trust.X509Svid;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One error mapping for both transports, against a real controller over real mTLS: a conflict is ALREADY_EXISTS on
 * gRPC and 409 on JSON with the same message; request bodies are bounded and strict; a failure that is not a status
 * is answered on both; and every method of the admin service descriptor is served on JSON behind the same rule.
 */
class AdminErrorMappingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private TestFederation federation;
    private AdminServiceGrpc.AdminServiceBlockingStub admin;

    @BeforeEach
    void setUp() throws Exception {
        federation = TestFederation.start(dir);
        admin = federation.admin();
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("east").build());
        admin.createNetwork(CreateNetworkRequest.newBuilder().setName("west").build());
    }

    @AfterEach
    void tearDown() {
        federation.close();
    }

    private HttpResponse<String> json(String method, String body) throws Exception {
        return Http.post(federation, "/v1/admin/" + method, body, federation.adminSvid());
    }

    private static JsonNode body(HttpResponse<String> response) throws Exception {
        assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
        return JSON.readTree(response.body());
    }

    private static StatusRuntimeException grpcFailure(Runnable call) {
        List<StatusRuntimeException> caught = new ArrayList<>();
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, caught::add);
        return caught.get(0);
    }

    @Test
    void aMemberAddedAgainWithOtherPropertiesIsAlreadyExistsOnGrpcAnd409OnJson() throws Exception {
        Member first = admin.addMember(AddMemberRequest.newBuilder().setName("m").setNetwork("east").build());
        long revision = federation.controller().store().revision();

        // The identical request again is idempotent, on both transports.
        assertThat(admin.addMember(AddMemberRequest.newBuilder().setName("m").setNetwork("east").build()))
                .isEqualTo(first);
        HttpResponse<String> again = json("AddMember", "{\"name\": \"m\", \"network\": \"east\"}");
        assertThat(again.statusCode()).isEqualTo(200);
        assertThat(body(again).get("trustDomain").asText()).isEqualTo("m.acme.mesh");

        StatusRuntimeException grpc = grpcFailure(() -> admin.addMember(AddMemberRequest.newBuilder().setName("m")
                .setNetwork("west").build()));
        assertThat(grpc.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
        assertThat(grpc.getStatus().getDescription()).startsWith("member 'm' exists already with network east, not"
                + " west;").contains("add it under another name");
        HttpResponse<String> conflict = json("AddMember", "{\"name\": \"m\", \"network\": \"west\"}");
        assertThat(conflict.statusCode()).isEqualTo(409);
        assertThat(body(conflict).get("code").asText()).isEqualTo("ALREADY_EXISTS");
        assertThat(body(conflict).get("error").asText()).isEqualTo(grpc.getStatus().getDescription());

        StatusRuntimeException otherDomain = grpcFailure(() -> admin.addMember(AddMemberRequest.newBuilder()
                .setName("m").setNetwork("east").setTrustDomain("m.example").build()));
        assertThat(otherDomain.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
        assertThat(otherDomain.getStatus().getDescription())
                .startsWith("member 'm' exists already with trust domain m.acme.mesh, not m.example;");

        assertThat(federation.controller().store().revision()).as("neither repeat nor conflict wrote anything")
                .isEqualTo(revision);
    }

    @Test
    void aBodyOverOneMebibyteIs413NamingTheLimit() throws Exception {
        // As curl sends a large body: headers with Expect: 100-continue, the body only after 100 Continue.
        try (SSLSocket s = Http.socket(federation, federation.adminSvid())) {
            s.getOutputStream().write(("POST /v1/admin/CreateNetwork HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: "
                    + (HttpEndpoint.MAX_ADMIN_BODY + 1) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            assertThat(in.readLine()).startsWith("HTTP/1.1 413 ");
            Map<String, String> headers = new HashMap<>();
            for (String line = in.readLine(); !line.isEmpty(); line = in.readLine()) {
                headers.put(line.substring(0, line.indexOf(':')).toLowerCase(Locale.ROOT),
                        line.substring(line.indexOf(':') + 1).trim());
            }
            assertThat(headers).containsEntry("content-type", "application/json");
            char[] body = new char[Integer.parseInt(headers.get("content-length"))];
            assertThat(in.read(body)).isEqualTo(body.length);
            JsonNode json = JSON.readTree(new String(body));
            assertThat(json.get("error").asText()).startsWith("request body over 1048576 bytes, the limit");
        }
        assertThat(admin.listNetworks(ListRequest.getDefaultInstance()).getNetworksCount()).isEqualTo(2);
    }

    @Test
    void unknownFieldsAndMalformedJsonAre400NamingWhatIsWrong() throws Exception {
        HttpResponse<String> unknown = json("CreateNetwork", "{\"name\": \"north\", \"colour\": \"blue\"}");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(body(unknown).get("code").asText()).isEqualTo("INVALID_ARGUMENT");
        assertThat(body(unknown).get("error").asText()).contains("not a valid CreateNetwork request")
                .contains("colour");
        HttpResponse<String> malformed = json("CreateNetwork", "{\"name\": ");
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(body(malformed).get("error").asText()).contains("not a valid CreateNetwork request");
        assertThat(admin.listNetworks(ListRequest.getDefaultInstance()).getNetworksList())
                .extracting(n -> n.getName()).containsExactly("east", "west");
    }

    @Test
    void aStoreThatFailsUnderTheControllerIsAnsweredOnBothTransports() throws Exception {
        federation.controller().store().close();

        StatusRuntimeException grpc = grpcFailure(() -> admin.listNetworks(ListRequest.getDefaultInstance()));
        assertThat(grpc.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(grpc.getStatus().getDescription()).isEqualTo("the controller's store cannot be used now; try"
                + " again later (the controller's log has the cause)");
        HttpResponse<String> http = json("ListNetworks", "{}");
        assertThat(http.statusCode()).isEqualTo(503);
        assertThat(body(http).get("code").asText()).isEqualTo("UNAVAILABLE");
        assertThat(body(http).get("error").asText()).isEqualTo(grpc.getStatus().getDescription());
        HttpResponse<String> write = json("CreateNetwork", "{\"name\": \"north\"}");
        assertThat(write.statusCode()).isEqualTo(503);
    }

    @Test
    void aMemberCaThatDoesNotLoadIs412WithItsReasonOnJsonAsOnGrpc() throws Exception {
        Path provided = federation.dataDir.resolve("ca/bad.acme.mesh/provided");
        Files.createDirectories(provided);
        for (String file : List.of(FederationIdentity.PROVIDED_CERT, FederationIdentity.PROVIDED_KEY,
                FederationIdentity.PROVIDED_CHAIN, FederationIdentity.PROVIDED_ROOT)) {
            Files.writeString(provided.resolve(file), "not PEM");
            Files.setPosixFilePermissions(provided.resolve(file), PosixFilePermissions.fromString("rw-------"));
        }
        StatusRuntimeException grpc = grpcFailure(() -> admin.addMember(AddMemberRequest.newBuilder().setName("bad")
                .setNetwork("east").build()));
        assertThat(grpc.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(grpc.getStatus().getDescription()).contains(FederationIdentity.PROVIDED_CERT);
        HttpResponse<String> http = json("AddMember", "{\"name\": \"bad\", \"network\": \"east\"}");
        assertThat(http.statusCode()).isEqualTo(412);
        assertThat(body(http).get("error").asText()).isEqualTo(grpc.getStatus().getDescription());
    }

    @Test
    void everyMethodOfTheAdminDescriptorIsRoutedOnJsonBehindTheAdminRule() throws Exception {
        admin.addMember(AddMemberRequest.newBuilder().setName("east").setNetwork("east").build());
        X509Svid gateway = federation.memberSvid("east.acme.mesh", "/meshfed/gateway/gw");
        List<String> routed = new ArrayList<>();
        for (MethodDescriptor<?, ?> method : AdminServiceGrpc.getServiceDescriptor().getMethods()) {
            String name = method.getBareMethodName();
            HttpResponse<String> refused = Http.post(federation, "/v1/admin/" + name, "{}", gateway);
            assertThat(refused.statusCode()).as(name).isEqualTo(403);
            assertThat(body(refused).get("code").asText()).as(name).isEqualTo("PERMISSION_DENIED");
            assertThat(body(refused).get("error").asText()).as(name)
                    .isEqualTo("spiffe://east.acme.mesh/meshfed/gateway/gw is not an admin identity; admin calls"
                            + " need the credentials made by 'meshfed init'");
            HttpResponse<String> anonymous = Http.post(federation, "/v1/admin/" + name, "{}", null);
            assertThat(anonymous.statusCode()).as(name).isEqualTo(403);
            assertThat(body(anonymous).get("error").asText()).as(name)
                    .contains("needs the admin client certificate made by 'meshfed init'");
            routed.add(name);
        }
        HttpResponse<String> garbage = Http.post(federation, "/v1/admin/CreateNetwork", "{not json", gateway);
        assertThat(garbage.statusCode()).as("the rule runs before the body is read").isEqualTo(403);
        assertThat(routed).hasSize(AdminServiceGrpc.getServiceDescriptor().getMethods().size())
                .contains("AddMember", "RevokeIdentity", "ApplyRoutes");

        HttpResponse<String> unknown = json("DropEverything", "{}");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(body(unknown).get("error").asText()).startsWith("no method 'DropEverything' in"
                + " meshfed.v1.AdminService; known: [").contains("AddMember");
    }
}
