package dev.tollgate.daemon.egress;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tollgate.daemon.RunningTollgate;
import dev.tollgate.daemon.clients.ClientTool;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.AdminClient;
import dev.tollgate.testing.RawHttpConnection;
import dev.tollgate.testing.RawTunnel;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A listener's egress rules in {@code mode: "report"} (issue #22, item 3): what they would refuse passes, its row
 * says OK and {@code WOULD_DENY: <rule>}, the stats count it; the rules that protect the proxy still refuse.
 */
class ReportModeIT {

    @TempDir
    Path dir;

    @Test
    void wouldBeRefusalsPassWithTheirRuleInTheRowAndAreCounted() throws Exception {
        ClientTool.assumeInstalled("openssl", "openssl");
        try (WebOrigin plain = WebOrigin.plain();
             WebOrigin tls = WebOrigin.tls(dir);
             RunningTollgate tollgate = RunningTollgate.start(dir, listener(plain.port(), tls.port()))) {
            assertEquals(200, RawHttpConnection.postVia(tollgate.port(), "http://localhost:" + plain.port()
                    + "/hello", "payload").status(), "allowMethods would refuse it");
            ClientTool.Result forged = ClientTool.run(dir, Duration.ofSeconds(60), "openssl", "s_client",
                    "-proxy", "127.0.0.1:" + tollgate.port(), "-connect", "localhost:" + tls.port(),
                    "-servername", "forged.example");
            assertTrue(forged.stdout().contains("Server certificate"), "the handshake went through: "
                    + forged.output());
            assertEquals(200, RawHttpConnection.getVia(tollgate.port(), "http://localhost:" + plain.port()
                    + "/hello").status());

            List<AccessRecord> rows = tollgate.awaitRows(3);
            AccessRecord post = rows.stream().filter(r -> "POST".equals(r.method())).findFirst().orElseThrow();
            assertEquals(Outcome.OK, post.outcome());
            assertEquals("WOULD_DENY: method POST is not in allowMethods [GET, HEAD]", post.reason());
            AccessRecord tunnel = rows.stream().filter(r -> "CONNECT".equals(r.method())).findFirst().orElseThrow();
            assertEquals(Outcome.OK, tunnel.outcome());
            assertEquals("WOULD_DENY: tls.requireSniMatch: the SNI forged.example is not the CONNECT host localhost",
                    tunnel.reason());
            AccessRecord get = rows.stream().filter(r -> "GET".equals(r.method())).findFirst().orElseThrow();
            assertEquals(null, get.reason());

            JsonNode stats = AdminClient.asAuditor(dir, tollgate.adminPort()).get(AdminClient.STATS).expect(200)
                    .json();
            assertEquals(2, stats.get("totals").get("wouldDeny").longValue(), stats::toString);
            assertEquals(0, stats.get("totals").get("refusalsByOutcome").size(), stats::toString);
            // The same count for Prometheus, by kind: the POST and the tunnel.
            String metrics = AdminClient.asAuditor(dir, tollgate.adminPort()).get("/metrics").expect(200).text();
            assertTrue(metrics.matches("(?s).*\\ntollgate_would_deny_total\\{kind=\"FORWARD\",listener=\"main\",?\\} 1\\.0\\n.*"),
                    metrics);
            assertTrue(metrics.matches("(?s).*\\ntollgate_would_deny_total\\{kind=\"TUNNEL\",listener=\"main\",?\\} 1\\.0\\n.*"),
                    metrics);
        }
    }

    @Test
    void theRulesThatProtectTheProxyStillRefuseInReportMode() throws Exception {
        try (WebOrigin plain = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, "{\"name\": \"main\", \"port\": 0,"
                     + " \"mode\": \"report\", \"allowMethods\": [\"GET\"], \"connectPorts\": [443]}")) {
            // This host, with allowLocalHost off: refused whatever the mode.
            assertEquals(403, RawHttpConnection.getVia(tollgate.port(), "http://127.0.0.1:" + plain.port()
                    + "/hello").status());
            // connectPorts is an egress rule: reported; the dial then meets this host, which refuses.
            assertEquals(403, RawTunnel.refusedStatus(tollgate.port(), plain.port()));
            for (AccessRecord row : tollgate.awaitRows(2)) {
                assertEquals(Outcome.DENIED, row.outcome(), row::toString);
                assertTrue(row.reason().contains("allowLocalHost is off"), row.reason());
            }
            assertEquals(0, plain.hits("/hello"));
        }
    }

    private static String listener(int plainPort, int tlsPort) {
        String loopback = RunningTollgate.loopbackListener(plainPort, tlsPort);
        return loopback.substring(0, loopback.length() - 1) + ", \"mode\": \"report\", \"allowMethods\": [\"GET\","
                + " \"HEAD\"], \"tls\": {\"requireSniMatch\": true}}";
    }
}
