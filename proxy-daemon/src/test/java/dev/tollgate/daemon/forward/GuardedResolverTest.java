package dev.tollgate.daemon.forward;

import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.forward.GuardedResolver;
import dev.tollgate.daemon.gate.AccessPolicy;
import dev.tollgate.daemon.gate.AdmissionGate;
import dev.tollgate.daemon.gate.ProxyAuthenticator;
import dev.tollgate.daemon.policy.LoopGuard;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.daemon.upstream.ParentProxy;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.SocketAddressResolver;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What HttpClient is handed to dial: only addresses that were checked. The name's answers come from a fixed
 * table instead of DNS (the table stands in for a resolver; nothing of Tollgate's is replaced).
 */
class GuardedResolverTest {

    @Test
    void aNameWhoseAnswersMixAnAllowedAndAThisHostAddressIsRefusedWhole() throws Exception {
        ExecutionException failed = assertThrows(ExecutionException.class,
                () -> resolve(List.of("203.0.113.7", "127.0.0.1")));

        RequestRefusedException refused = assertInstanceOf(RequestRefusedException.class, failed.getCause());
        assertEquals(403, refused.status());
        assertTrue(refused.reason().contains("mixed.test (127.0.0.1) is this host"), refused.reason());
    }

    @Test
    void aNameWhoseAnswersMixAnAllowedAndADeniedNetworkIsRefusedWhole() {
        ExecutionException failed = assertThrows(ExecutionException.class,
                () -> resolve(List.of("203.0.113.7", "169.254.169.254")));

        assertInstanceOf(RequestRefusedException.class, failed.getCause());
    }

    @Test
    void aNameWhoseAnswersAreAllAllowedIsHandedOnUnchanged() throws Exception {
        List<InetSocketAddress> addresses = resolve(List.of("203.0.113.7", "2001:db8::7"));

        assertEquals(2, addresses.size());
        assertEquals("203.0.113.7", addresses.get(0).getAddress().getHostAddress());
    }

    private static List<InetSocketAddress> resolve(List<String> answers) throws Exception {
        SocketAddressResolver table = (host, port, context, promise) -> {
            try {
                List<InetSocketAddress> out = new ArrayList<>();
                for (String answer : answers) {
                    out.add(new InetSocketAddress(InetAddress.getByName(answer), port));
                }
                promise.succeeded(out);
            } catch (Exception e) {
                promise.failed(e);
            }
        };
        AccessPolicy policy = new AccessPolicy(ConfigLoader.parse("test", "{\"listeners\": [{}]}").listeners().get(0));
        AdmissionGate gate = new AdmissionGate(policy, new LoopGuard("node"), ProxyAuthenticator.NONE,
                ParentProxy.DIRECT);
        GuardedResolver resolver = new GuardedResolver(table, gate, ParentProxy.DIRECT);
        CompletableFuture<List<InetSocketAddress>> result = new CompletableFuture<>();
        resolver.resolve("mixed.test", 80, Map.of(), Promise.from(result::complete, result::completeExceptionally));
        return result.get(10, TimeUnit.SECONDS);
    }
}
