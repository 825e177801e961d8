package dev.tollgate.daemon;

import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.ProxyClient;
import dev.tollgate.testing.origins.WebOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SmokeIT {

    @TempDir
    Path dir;

    @Test
    void getThroughTheProxyIsForwardedAndRecorded() throws Exception {
        try (WebOrigin origin = WebOrigin.plain();
             RunningTollgate tollgate = RunningTollgate.start(dir, RunningTollgate.loopbackListener())) {
            HttpClient client = ProxyClient.through(tollgate.port());
            HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(origin.base()
                    + "/hello")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode());
            assertEquals("hello", response.body());

            List<AccessRecord> rows = tollgate.awaitRows(1);
            AccessRecord row = rows.get(0);
            assertEquals(Kind.FORWARD, row.kind());
            assertEquals("GET", row.method());
            assertEquals("127.0.0.1", row.host());
            assertEquals(origin.port(), row.port());
            assertEquals("/hello", row.path());
            assertEquals(200, row.status());
            assertEquals(5, row.bytesToClient());
            assertEquals(Outcome.OK, row.outcome());
            assertEquals("127.0.0.1", row.upstreamAddr());
        }
    }
}
