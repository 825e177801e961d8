package dev.tollgate.daemon.gate;

import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.config.ListenerConfig;
import dev.tollgate.daemon.gate.AccessPolicy;
import dev.tollgate.daemon.gate.AdmissionGate.Exchange;
import dev.tollgate.daemon.gate.AdmissionGate;
import dev.tollgate.daemon.gate.ProxyAuthenticator;
import dev.tollgate.daemon.policy.AddressLiterals;
import dev.tollgate.daemon.policy.LoopGuard;
import dev.tollgate.daemon.policy.RequestRefusedException;
import dev.tollgate.daemon.tls.ClientHello;
import dev.tollgate.daemon.upstream.ParentProxy;
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
            gate.admit(exchange == Exchange.FORWARD ? "GET" : "CONNECT", viaValues, InetAddress.getByName(client), null,
                    host, port, exchange);
            if (!dialled.equals("-")) {
                gate.checkDial(host, InetAddress.getByName(dialled), port, exchange);
            }
            return;
        }
        RequestRefusedException refused = assertThrows(RequestRefusedException.class, () -> {
            gate.admit(exchange == Exchange.FORWARD ? "GET" : "CONNECT", viaValues, InetAddress.getByName(client), null,
                    host, port, exchange);
            if (!dialled.equals("-")) {
                gate.checkDial(host, InetAddress.getByName(dialled), port, exchange);
            }
        });
        String[] statusAndReason = expected.split(" ", 2);
        assertEquals(Integer.parseInt(statusAndReason[0]), refused.status(), refused.reason());
        assertEquals(refused.status() == LoopGuard.LOOP_DETECTED ? Outcome.LOOP : Outcome.DENIED, refused.outcome());
        assertTrue(refused.reason().contains(statusAndReason[1]), refused.reason());
    }

    /**
     * The egress rules of issue #22 on what the request says: {@code denyIpLiterals} in every spelling of an
     * address, and {@code allowMethods} (forwarded requests only; 403, as Squid).
     */
    @ParameterizedTest(name = "{0} {1} {2}:{3} -> {4}")
    @CsvSource(delimiter = '|', value = {
        "FORWARD | GET     | example.test  | 80  | ok",
        "FORWARD | HEAD    | example.test  | 80  | ok",
        "FORWARD | POST    | example.test  | 80  | 403 method POST is not in allowMethods [GET, HEAD]",
        "FORWARD | get     | example.test  | 80  | 403 allowMethods",
        "TUNNEL  | CONNECT | example.test  | 443 | ok",
        "FORWARD | GET     | 203.0.113.7   | 80  | 403 denyIpLiterals",
        "TUNNEL  | CONNECT | 203.0.113.7   | 443 | 403 denyIpLiterals",
        "TUNNEL  | CONNECT | [2001:db8::1] | 443 | 403 denyIpLiterals",
        "FORWARD | GET     | 3405803783    | 80  | 403 denyIpLiterals",
        "FORWARD | GET     | 203.1         | 80  | 403 denyIpLiterals",
        "FORWARD | GET     | 0xcb.0x0.0x71.0x7 | 80  | 403 denyIpLiterals",
        "FORWARD | GET     | 1.example.test | 80  | ok",
    })
    void egressRulesOnTheRequest(Exchange exchange, String method, String host, int port, String expected)
            throws Exception {
        AdmissionGate gate = gate(EGRESS);
        if (expected.equals("ok")) {
            gate.admit(method, List.of(), InetAddress.getByName("10.1.2.3"), null, host, port, exchange);
            return;
        }
        RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                () -> gate.admit(method, List.of(), InetAddress.getByName("10.1.2.3"), null, host, port, exchange));
        String[] statusAndReason = expected.split(" ", 2);
        assertEquals(Integer.parseInt(statusAndReason[0]), refused.status(), refused.reason());
        assertEquals(Outcome.DENIED, refused.outcome());
        assertTrue(refused.reason().contains(statusAndReason[1]), refused.reason());
    }

    /**
     * The rules on a tunnel's ClientHello: {@code tls.requireSniMatch} (with and without
     * {@code tls.allowMissingSni}) and {@code tls.domainRulesOnSni} for a CONNECT to an address. Columns: listener,
     * CONNECT host, SNI ("-" none, "!" no ClientHello, "~" not TLS), answer.
     */
    @ParameterizedTest(name = "{0} CONNECT {1} SNI {2} -> {3}")
    @CsvSource(delimiter = '|', value = {
        "sniMatch        | example.test  | example.test   | ok",
        "sniMatch        | example.test  | EXAMPLE.test.  | ok",
        "sniMatch        | Example.Test. | example.test   | ok",
        "sniMatch        | example.test  | forged.example | 403 tls.requireSniMatch: the SNI forged.example is not the CONNECT host example.test",
        "sniMatch        | example.test  | -              | 403 tls.allowMissingSni is off",
        "sniMatch        | example.test  | !              | 403 no TLS ClientHello within 5000 ms",
        "sniMatch        | example.test  | ~              | 403 does not start with a readable TLS ClientHello",
        "sniMatchMissing | example.test  | -              | ok",
        "sniMatchMissing | example.test  | forged.example | 403 tls.requireSniMatch",
        "sniDomains      | 203.0.113.7   | api.good.test  | ok",
        "sniDomains      | 203.0.113.7   | evil.test      | 403 tls.domainRulesOnSni: destination 203.0.113.7 (SNI evil.test) matches no entry of allowDestinations",
        "sniDomains      | 203.0.113.7   | x.bad.good.test | 403 is refused by denyDestinations[0]: .bad.good.test",
        "sniDomains      | 203.0.113.7   | -              | 403 matches no entry of allowDestinations",
        "sniDomains      | 198.51.100.1  | -              | ok",
        "sniDomains      | api.good.test | evil.test      | ok",
    })
    void rulesOnTheClientHello(String listener, String host, String sni, String expected) throws Exception {
        AdmissionGate gate = gate(switch (listener) {
            case "sniMatch" -> "{\"tls\": {\"requireSniMatch\": true}}";
            case "sniMatchMissing" -> "{\"tls\": {\"requireSniMatch\": true, \"allowMissingSni\": true}}";
            default -> "{\"tls\": {\"domainRulesOnSni\": true}, \"allowDestinations\": [\"*.good.test\","
                    + " \"198.51.100.0/24\"], \"denyDestinations\": [\".bad.good.test\"]}";
        });
        ClientHello hello = switch (sni) {
            case "!" -> null;
            case "~" -> new ClientHello(ClientHello.NOT_TLS, null, List.of(), null, "SSH-2.0");
            case "-" -> new ClientHello("TLSv1.3", null, List.of(), "t13i0000h2_x_y", null);
            default -> new ClientHello("TLSv1.3", sni, List.of(), "t13d0000h2_x_y", null);
        };
        boolean literal = AddressLiterals.isLiteral(host);
        assertEquals(!listener.equals("sniDomains") || literal, gate.holdsClientHello(host));
        if (literal) {
            // Admitted on its address, for its SNI to decide.
            gate.checkDial(host, InetAddress.getByName(host), 443, Exchange.TUNNEL);
        }
        if (expected.equals("ok")) {
            gate.checkClientHello(host, hello);
            return;
        }
        RequestRefusedException refused = assertThrows(RequestRefusedException.class,
                () -> gate.checkClientHello(host, hello));
        String[] statusAndReason = expected.split(" ", 2);
        assertEquals(Integer.parseInt(statusAndReason[0]), refused.status(), refused.reason());
        assertTrue(refused.reason().contains(statusAndReason[1]), refused.reason());
    }

    @org.junit.jupiter.api.Test
    void anInterceptedTunnelToAnAddressIsNotLetThroughForAnSniItWillNeverBeCheckedOn() throws Exception {
        AdmissionGate gate = gate("{\"tls\": {\"domainRulesOnSni\": true}, \"allowDestinations\": [\"*.good.test\"]}");
        RequestRefusedException refused = assertThrows(RequestRefusedException.class, () -> gate.checkDial(
                "203.0.113.7", InetAddress.getByName("203.0.113.7"), 443, Exchange.INTERCEPTED_TUNNEL));
        assertTrue(refused.reason().contains("matches no entry of allowDestinations"), refused.reason());
    }

    /**
     * {@code mode: "report"}: the egress rules note what they would refuse and let it through; loops, clients, this
     * host and {@code denyDestinations} still refuse.
     */
    @ParameterizedTest(name = "report {0} {1} {2}:{3} dialling {4} -> {5}")
    @CsvSource(delimiter = '|', value = {
        "FORWARD | POST    | example.test  | 80   | 203.0.113.7 | WOULD method POST is not in allowMethods [GET]",
        "FORWARD | GET     | 203.0.113.7   | 80   | 203.0.113.7 | WOULD denyIpLiterals is on",
        "TUNNEL  | CONNECT | example.test  | 22   | 203.0.113.7 | WOULD not in connectPorts [443]",
        "FORWARD | GET     | other.test    | 80   | 203.0.113.7 | WOULD matches no entry of allowDestinations",
        "FORWARD | GET     | a.blocked.test | 80  | -           | 403 denyDestinations[0]",
        "FORWARD | GET     | ok.test       | 80   | 169.254.169.254 | 403 denyDestinations[1]",
        "FORWARD | GET     | localhost     | 80   | 127.0.0.1   | 403 allowLocalHost is off",
        "FORWARD | GET     | ok.test       | 80   | 203.0.113.7 | ok",
    })
    void reportModeLetsTheEgressRulesThroughAndNothingElse(Exchange exchange, String method, String host, int port,
                                                           String dialled, String expected) throws Throwable {
        String json = "{\"mode\": \"report\", \"allowClients\": [\"10.0.0.0/8\"], \"denyIpLiterals\": true,"
                + " \"allowMethods\": [\"GET\"], \"allowDestinations\": [\"ok.test\", \"a.blocked.test\"],"
                + " \"denyDestinations\": [\"*.blocked.test\", \"169.254.0.0/16\"]}";
        ListenerConfig config = ConfigLoader.parse("test", "{\"listeners\": [" + json + "]}").listeners().get(0);
        AdmissionGate gate = new AdmissionGate(new AccessPolicy(config), new LoopGuard("node"),
                ProxyAuthenticator.NONE, ParentProxy.of(config.upstreamProxy()), config.reportsOnly());
        List<String> noted = new java.util.ArrayList<>();
        AdmissionGate.WouldDeny sink = noted::add;
        org.junit.jupiter.api.function.Executable request = () -> {
            gate.admit(method, List.of(), InetAddress.getByName("10.1.2.3"), null, host, port, exchange, sink);
            if (!dialled.equals("-")) {
                gate.checkDial(host, InetAddress.getByName(dialled), port, exchange, sink);
            }
        };
        if (expected.startsWith("403")) {
            RequestRefusedException refused = assertThrows(RequestRefusedException.class, request);
            assertTrue(refused.reason().contains(expected.substring(4)), refused.reason());
            return;
        }
        request.execute();
        if (expected.equals("ok")) {
            assertEquals(List.of(), noted);
        } else {
            assertTrue(!noted.isEmpty() && noted.get(0).contains(expected.substring(6)), noted::toString);
        }
    }

    @org.junit.jupiter.api.Test
    void limitsComeAfterAuthenticationAndBeforeTheDestinationRules() throws Exception {
        ListenerConfig config = ConfigLoader.parse("test", "{\"listeners\": [{\"allowClients\": [\"10.0.0.0/8\"],"
                + " \"denyDestinations\": [\"*.blocked.test\"], \"limits\": {\"perClient\": {\"requestsPerMinute\": 1}}}]}")
                .listeners().get(0);
        Limits limits = new Limits();
        limits.configure(config.limits());
        AdmissionGate gate = new AdmissionGate(new AccessPolicy(config), new LoopGuard("node"),
                ProxyAuthenticator.NONE, ParentProxy.of(config.upstreamProxy()), false, limits);
        InetAddress client = InetAddress.getByName("10.1.2.3");
        // A client outside allowClients takes no token; a denied destination does (the limit comes first).
        assertEquals(403, assertThrows(RequestRefusedException.class, () -> gate.admit("GET", List.of(),
                InetAddress.getByName("192.0.2.1"), null, "example.test", 80, Exchange.FORWARD)).status());
        assertEquals(403, assertThrows(RequestRefusedException.class, () -> gate.admit("GET", List.of(), client,
                null, "a.blocked.test", 80, Exchange.FORWARD)).status());
        RequestRefusedException limited = assertThrows(RequestRefusedException.class, () -> gate.admit("GET",
                List.of(), client, null, "a.blocked.test", 80, Exchange.FORWARD));
        assertEquals(429, limited.status());
        assertEquals(Outcome.RATE_LIMITED, limited.outcome());
        assertEquals(60, limited.retryAfterSeconds(), 1);
        gate.admit("GET", List.of(), InetAddress.getByName("10.9.9.9"), null, "example.test", 80, Exchange.FORWARD);
    }

    private static final String EGRESS = "{\"allowClients\": [\"10.0.0.0/8\"], \"denyIpLiterals\": true,"
            + " \"allowMethods\": [\"GET\", \"HEAD\"]}";

    private static AdmissionGate gate(String listener) {
        String json = listener.equals("parent") ? PARENT : listener.equals("direct") ? LISTENER : listener;
        ListenerConfig config = ConfigLoader.parse("test", "{\"listeners\": [" + json + "]}").listeners().get(0);
        LoopGuard loopGuard = new LoopGuard("node");
        loopGuard.addOwnPort(OWN_PORT);
        return new AdmissionGate(new AccessPolicy(config), loopGuard, ProxyAuthenticator.NONE,
                ParentProxy.of(config.upstreamProxy()));
    }
}
