package dev.tollgate.daemon.proxy;

import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.proxy.AdmissionGate.Exchange;
import dev.tollgate.store.Outcome;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.InetAddress;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admission gate as a table: one listener's rules, a request's facts, and what the gate answers, for
 * forwarded requests and tunnels alike (issue #23: the gate was written out three times). Addresses are
 * literals, so nothing here touches DNS or a socket; this node's own port is 3128.
 */
class AdmissionGateTest {

    private static final String LISTENER = "{\"connectPorts\": [443, \"8443-8445\"],"
            + " \"allowClients\": [\"10.0.0.0/8\", \"127.0.0.0/8\"],"
            + " \"denyDestinations\": [\"169.254.0.0/16\", \"*.blocked.test\"]}";
    private static final String PARENT = "{\"connectPorts\": [443], \"denyDestinations\": [\"*.blocked.test\","
            + " \"10.9.0.0/16\"], \"upstreamProxy\": {\"host\": \"203.0.113.9\", \"port\": 3128}}";
    private static final int OWN_PORT = 3128;

    /**
     * Columns: listener (direct or parent), exchange, Via, client, host asked for, port, the address dialled
     * ("-" when the gate is not asked to check a dial), and the answer: "ok", or the status and a piece of the
     * reason.
     */
    @ParameterizedTest(name = "{0} {1} {4}:{5} dialling {6} from {3} -> {7}")
    @CsvSource(delimiter = '|', value = {
        "direct | FORWARD | -                     | 10.1.2.3    | example.test     | 80    | 203.0.113.7  | ok",
        "direct | TUNNEL  | -                     | 10.1.2.3    | example.test     | 443   | 203.0.113.7  | ok",
        "direct | TUNNEL  | -                     | 10.1.2.3    | example.test     | 8444  | 203.0.113.7  | ok",
        "direct | FORWARD | 1.1 node              | 10.1.2.3    | example.test     | 80    | -            | 508 already passed",
        "direct | FORWARD | 1.1 other, 1.1 node   | 10.1.2.3    | example.test     | 80    | -            | 508 already passed",
        "direct | FORWARD | 1.1 other             | 10.1.2.3    | example.test     | 80    | 203.0.113.7  | ok",
        "direct | FORWARD | -                     | 192.0.2.1   | example.test     | 80    | -            | 403 allowClients",
        "direct | TUNNEL  | -                     | 192.0.2.1   | example.test     | 443   | -            | 403 allowClients",
        "direct | FORWARD | -                     | 10.1.2.3    | a.blocked.test   | 80    | -            | 403 denyDestinations[1]",
        "direct | TUNNEL  | -                     | 10.1.2.3    | a.blocked.test   | 443   | -            | 403 denyDestinations[1]",
        "direct | TUNNEL  | -                     | 10.1.2.3    | example.test     | 22    | 203.0.113.7  | 403 connectPorts",
        "direct | FORWARD | -                     | 10.1.2.3    | example.test     | 22    | 203.0.113.7  | ok",
        "direct | FORWARD | -                     | 10.1.2.3    | meta.test        | 80    | 169.254.169.254 | 403 denyDestinations[0]",
        "direct | TUNNEL  | -                     | 10.1.2.3    | meta.test        | 443   | 169.254.169.254 | 403 denyDestinations[0]",
        "direct | FORWARD | -                     | 10.1.2.3    | localhost        | 80    | 127.0.0.1    | 403 allowLocalHost is off",
        "direct | TUNNEL  | -                     | 10.1.2.3    | ::               | 443   | ::           | 403 allowLocalHost is off",
        "direct | FORWARD | -                     | 10.1.2.3    | 127.0.0.1        | 3128  | 127.0.0.1    | 508 this proxy itself",
        "direct | TUNNEL  | -                     | 10.1.2.3    | 127.0.0.1        | 3128  | 127.0.0.1    | 508 this proxy itself",
        "parent | FORWARD | -                     | 127.0.0.1   | example.test     | 80    | -            | ok",
        "parent | TUNNEL  | -                     | 127.0.0.1   | example.test     | 22    | -            | 403 connectPorts",
        "parent | TUNNEL  | -                     | 127.0.0.1   | example.test     | 443   | -            | ok",
        "parent | FORWARD | -                     | 127.0.0.1   | 10.9.1.1         | 80    | -            | 403 denyDestinations[1]",
        "parent | TUNNEL  | -                     | 127.0.0.1   | 127.0.0.1        | 3128  | -            | 508 this proxy itself",
        "parent | FORWARD | -                     | 127.0.0.1   | 127.0.0.1        | 80    | -            | 403 allowLocalHost is off",
        "parent | FORWARD | -                     | 127.0.0.1   | x.blocked.test   | 80    | -            | 403 denyDestinations[0]",
    })
    void answersAsTheTableSays(String listener, Exchange exchange, String via, String client, String host, int port,
                               String dialled, String expected) throws Exception {
        AdmissionGate gate = gate(listener);
        List<String> viaValues = via.equals("-") ? List.of() : List.of(via);

        if (expected.equals("ok")) {
            gate.admit(viaValues, InetAddress.getByName(client), null, host, port, exchange);
            if (!dialled.equals("-")) {
                gate.checkDial(host, InetAddress.getByName(dialled), port, exchange);
            }
            return;
        }
        RequestRefusedException refused = assertThrows(RequestRefusedException.class, () -> {
            gate.admit(viaValues, InetAddress.getByName(client), null, host, port, exchange);
            if (!dialled.equals("-")) {
                gate.checkDial(host, InetAddress.getByName(dialled), port, exchange);
            }
        });
        String[] statusAndReason = expected.split(" ", 2);
        assertEquals(Integer.parseInt(statusAndReason[0]), refused.status(), refused.reason());
        assertEquals(refused.status() == LoopGuard.LOOP_DETECTED ? Outcome.LOOP : Outcome.DENIED, refused.outcome());
        assertTrue(refused.reason().contains(statusAndReason[1]), refused.reason());
    }

    private static AdmissionGate gate(String listener) {
        ListenerConfig config = ConfigLoader.parse("test", "{\"listeners\": [" + (listener.equals("parent") ? PARENT
                : LISTENER) + "]}").listeners().get(0);
        LoopGuard loopGuard = new LoopGuard("node");
        loopGuard.addOwnPort(OWN_PORT);
        return new AdmissionGate(new AccessPolicy(config), loopGuard, ProxyAuthenticator.NONE,
                ParentProxy.of(config.upstreamProxy()));
    }
}
