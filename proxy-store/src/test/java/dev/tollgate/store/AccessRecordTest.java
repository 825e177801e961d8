package dev.tollgate.store;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Each kind's factory makes the row its producer made column by column before. */
class AccessRecordTest {

    @Test
    void aTunnelsRowIsAConnectWithItsClientHello() {
        AccessRecord built = AccessRecord.tunnel("node-1", "main")
                .timing(1_700_000_000_000L, 1_700_000_000_012L)
                .client("127.0.0.1", 40000)
                .protocol("HTTP/1.1")
                .destination("example.com", 443)
                .status(200)
                .bytes(517, 4096)
                .upstreamAddr("93.184.216.34")
                .sni("example.com")
                .outcome(Outcome.OK, null)
                .clientHello("h2,http/1.1", "TLSv1.3", "t13d1516h2_8daaf6152771_e5627efa2ab1")
                .build();
        assertEquals(new AccessRecord(null, 1_700_000_000_000L, 12, "node-1", "main", "127.0.0.1", 40000, null,
                Kind.TUNNEL, "HTTP/1.1", "CONNECT", "example.com", 443, null, 200, 517, 4096, "93.184.216.34",
                "example.com", Outcome.OK, null, "h2,http/1.1", "TLSv1.3", "t13d1516h2_8daaf6152771_e5627efa2ab1"),
                built);
    }

    @Test
    void aForwardedRowHasNoClientHelloColumns() {
        AccessRecord built = AccessRecord.forwarded("node-1", "main")
                .timing(1_700_000_000_000L, 1_700_000_000_005L)
                .client("127.0.0.1", 40001)
                .username("alice")
                .protocol("HTTP/1.1")
                .method("GET")
                .destination("example.com", 80)
                .path("/")
                .status(200)
                .bytes(0, 10)
                .upstreamAddr("93.184.216.34")
                .outcome(Outcome.OK, null)
                .build();
        assertEquals(new AccessRecord(null, 1_700_000_000_000L, 5, "node-1", "main", "127.0.0.1", 40001, "alice",
                Kind.FORWARD, "HTTP/1.1", "GET", "example.com", 80, "/", 200, 0, 10, "93.184.216.34", null,
                Outcome.OK, null), built);
    }

    @Test
    void anInterceptedRowCarriesItsTunnelsName() {
        AccessRecord built = AccessRecord.intercepted("node-1", "main", "example.com")
                .method("GET").outcome(Outcome.OK, null).build();
        assertEquals(Kind.INTERCEPT, built.kind());
        assertEquals("example.com", built.sni());
    }

    @Test
    void aHeadThatTimedOutIs408WithNothingOfTheRequestLine() {
        AccessRecord built = AccessRecord.headTimeout("node-1", "main", "request head not complete within 10 ms")
                .timing(1_700_000_000_000L, 1_700_000_000_010L)
                .client("127.0.0.1", 40002)
                .build();
        assertEquals(new AccessRecord(null, 1_700_000_000_000L, 10, "node-1", "main", "127.0.0.1", 40002, null,
                Kind.FORWARD, null, null, null, 0, null, 408, 0, 0, null, null, Outcome.CLIENT_TIMEOUT,
                "request head not complete within 10 ms"), built);
    }

    @Test
    void aParserRejectionIsATunnelRowOnlyForAConnectSpelledSo() {
        assertEquals(Kind.TUNNEL, AccessRecord.parserRejection("n", "l", "CONNECT", 431, "r").build().kind());
        assertEquals(Kind.FORWARD, AccessRecord.parserRejection("n", "l", "connect", 400, "r").build().kind());
        assertEquals(Kind.FORWARD, AccessRecord.parserRejection("n", "l", null, 400, "r").build().kind());
        assertEquals(Outcome.BAD_REQUEST, AccessRecord.parserRejection("n", "l", null, 414, "r").build().outcome());
    }

    @Test
    void aClockThatStepsBackGivesNoNegativeDuration() {
        AccessRecord built = AccessRecord.forwarded("n", "l").timing(1_000, 900).outcome(Outcome.OK, null).build();
        assertEquals(0, built.durationMs());
    }
}
