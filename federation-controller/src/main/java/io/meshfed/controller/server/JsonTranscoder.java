package io.meshfed.controller.server;

import static java.util.Objects.requireNonNull;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLSession;

/**
 * A gRPC service as JSON over HTTPS, in the manner of HTTP/JSON transcoding: {@code POST <prefix><Method>} for every
 * unary method of the bound service, request and response in proto3 JSON. The routes come from the service
 * definition, so a method added to the proto is served with no edit here. Each call goes through the service's
 * own handler chain (the same interceptors as on gRPC: the caller's rule, the error mapping) in an
 * {@link InMemoryServerCall} that carries the HTTPS connection's TLS session, so authorization and errors are the
 * same code path on both transports. The caller's rule runs before the body is parsed.
 *
 * <p>Unknown JSON fields are refused (400 naming the field), as is malformed JSON; failures answer
 * {@code {"code": <gRPC code>, "error": <message>}} with the HTTP status of {@link ErrorMapping}.
 */
public final class JsonTranscoder implements HttpEndpoint.AdminHandler {
    /** How long a service that answers from another thread may take. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);
    private static final JsonFormat.Parser PARSER = JsonFormat.parser(); // refuses unknown fields
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer();

    private final String serviceName;
    private final Map<String, ServerMethodDefinition<?, ?>> methods = new TreeMap<>();

    /** @param service the bound service with its interceptors, e.g. {@code ServerInterceptors.intercept(...)} */
    public JsonTranscoder(ServerServiceDefinition service) {
        this.serviceName = requireNonNull(service, "service").getServiceDescriptor().getName();
        for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
            MethodDescriptor<?, ?> descriptor = method.getMethodDescriptor();
            if (descriptor.getType() != MethodDescriptor.MethodType.UNARY) {
                continue; // streams have no one-request, one-response JSON form
            }
            if (!(descriptor.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> marshaller)
                    || !(marshaller.getMessagePrototype() instanceof Message)) {
                throw new IllegalArgumentException(descriptor.getFullMethodName()
                        + " has no protobuf request prototype to parse JSON into");
            }
            methods.put(descriptor.getBareMethodName(), method);
        }
    }

    /** The routed method names ({@code CreateNetwork}, ...). */
    public java.util.Set<String> methodNames() {
        return java.util.Collections.unmodifiableSet(methods.keySet());
    }

    @Override
    public HttpEndpoint.Response handle(String method, String body, SSLSession session) {
        ServerMethodDefinition<?, ?> definition = methods.get(method);
        if (definition == null) {
            return ErrorMapping.httpResponse(Status.NOT_FOUND.withDescription("no method '" + method + "' in "
                    + serviceName + "; known: " + methods.keySet()));
        }
        Attributes attributes = session == null ? Attributes.EMPTY
                : Attributes.newBuilder().set(Grpc.TRANSPORT_ATTR_SSL_SESSION, session).build();
        return call(definition, method, body, attributes);
    }

    private static <Q, R> HttpEndpoint.Response call(ServerMethodDefinition<Q, R> definition, String name,
            String body, Attributes attributes) {
        MethodDescriptor<Q, R> descriptor = definition.getMethodDescriptor();
        InMemoryServerCall<Q, R> call = new InMemoryServerCall<>(descriptor, attributes);
        ServerCall.Listener<Q> listener = null;
        try {
            listener = definition.getServerCallHandler().startCall(call, new Metadata());
            if (!call.isClosed()) { // not refused by an interceptor
                Q request;
                try {
                    request = parse(descriptor, body);
                } catch (InvalidProtocolBufferException e) {
                    call.cancel();
                    listener.onCancel();
                    return ErrorMapping.httpResponse(Status.INVALID_ARGUMENT.withDescription(
                            "request body is not a valid " + name + " request: " + e.getMessage()));
                }
                listener.onMessage(request);
                listener.onHalfClose();
            }
            InMemoryServerCall.Outcome<R> outcome = call.await(CALL_TIMEOUT);
            listener.onComplete();
            if (!outcome.status().isOk()) {
                return ErrorMapping.httpResponse(outcome.status());
            }
            return new HttpEndpoint.Response(200, EndpointRoutes.JSON,
                    PRINTER.print((MessageOrBuilder) outcome.response()) + "\n");
        } catch (TimeoutException e) {
            call.cancel();
            listener.onCancel();
            return ErrorMapping.httpResponse(Status.DEADLINE_EXCEEDED.withDescription(name + " did not answer within "
                    + CALL_TIMEOUT.toSeconds() + " s; see the controller's log"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return ErrorMapping.httpResponse(Status.UNAVAILABLE.withDescription("the controller is stopping"));
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            // Not mapped by an interceptor: a handler chain without one, or the response cannot be printed.
            return ErrorMapping.httpResponse(ErrorMapping.status(e, descriptor.getFullMethodName()));
        }
    }

    @SuppressWarnings("unchecked")
    private static <Q> Q parse(MethodDescriptor<Q, ?> descriptor, String body) throws InvalidProtocolBufferException {
        Message prototype = (Message) ((MethodDescriptor.PrototypeMarshaller<Q>) descriptor.getRequestMarshaller())
                .getMessagePrototype();
        Message.Builder builder = prototype.newBuilderForType();
        if (!body.isBlank()) {
            PARSER.merge(body, builder);
        }
        return (Q) builder.build();
    }
}
