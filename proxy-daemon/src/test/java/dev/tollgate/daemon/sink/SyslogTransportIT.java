package dev.tollgate.daemon.sink;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tollgate.daemon.config.SinkConfig;
import dev.tollgate.daemon.tls.LocalCa;
import dev.tollgate.daemon.tls.Pem;
import dev.tollgate.store.AccessRecord;
import dev.tollgate.store.AdminEvent;
import dev.tollgate.store.AdminEventLog;
import dev.tollgate.store.Kind;
import dev.tollgate.store.Outcome;
import dev.tollgate.testing.ClosedAfterEach;
import dev.tollgate.testing.Poll;
import dev.tollgate.testing.receivers.RsyslogServer;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The syslog transport against a real rsyslog (Debian's rsyslogd, started by {@link RsyslogServer}) and, for the
 * receiver that stops reading, a bare socket. rsyslog parses what it receives (RFC 5424 header, structured data by
 * its mmpstrucdata) and the tests compare that with the events sent.
 */
class SyslogTransportIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Instant T0 = Instant.parse("2026-12-06T15:10:00.123Z");
    /** local0 (16) * 8, plus the severity. */
    private static final int LOCAL0 = 16 * 8;
    private static final char BOM = '\uFEFF';
    /** Everything RFC 5424 escapes, JSON escapes, and a line break in a path, where a client controls the text. */
    private static final String AWKWARD_PATH = "/q\"uote]bracket\\back\nslash/é€😀";

    @RegisterExtension
    final ClosedAfterEach closed = new ClosedAfterEach();
    @TempDir
    Path dir;

    @Test
    void plainTcpDeliversEachRecordOnceInOrderWithSeqNodeAndChain() throws Exception {
        RsyslogServer rsyslog = closed.add(RsyslogServer.plain(dir.resolve("rsyslog")));
        SyslogTransport transport = closed.add(new SyslogTransport(syslog(rsyslog, null)));
        List<SinkEvent> sent = List.of(access(1, Outcome.OK, "/one"), access(2, Outcome.DENIED, "/two"),
                admin(77), access(3, Outcome.OK, "/three"));

        transport.deliver(sent.subList(0, 2));
        transport.deliver(sent.subList(2, 4));
        List<RsyslogServer.Message> received = rsyslog.awaitMessages(sent.size());

        assertEquals(sent.size(), received.size(), "each record once");
        for (int i = 0; i < sent.size(); i++) {
            SinkEvent event = sent.get(i);
            RsyslogServer.Message message = received.get(i);
            assertEquals(LOCAL0 + (event.type().equals("admin") || i == 1 ? 5 : 6), message.pri(),
                    "PRI: notice for the refusal and the admin event, informational otherwise");
            assertEquals(event.ts(), Instant.parse(message.timestamp()));
            assertEquals("gw-1", message.hostname());
            assertEquals("tollgate", message.appName());
            assertEquals(String.valueOf(ProcessHandle.current().pid()), message.procId());
            assertEquals(event.type(), message.msgId());
            Map<String, String> sd = sdOf(message);
            assertEquals(String.valueOf(event.seq()), sd.get("seq"), message.structuredData());
            assertEquals("gw-1", sd.get("node"));
            assertEquals(event.chain(), sd.get("chain"));
            assertEquals(BOM, message.msg().charAt(0), "RFC 5424 6.4: UTF-8 MSG starts with the BOM");
            assertEquals(JSON.readTree(event.json()), JSON.readTree(message.msg().substring(1)));
            assertEquals(JSON.readTree(event.json()), JSON.readTree(message.msgJson()),
                    "rsyslog's parse_json, after the BOM is taken off as docs/integrations.md says");
        }
    }

    @Test
    void quotesBracketsBackslashesLineBreaksAndNonAsciiSurviveTheJsonFormat() throws Exception {
        RsyslogServer rsyslog = closed.add(RsyslogServer.plain(dir.resolve("rsyslog")));
        SyslogTransport transport = closed.add(new SyslogTransport(syslog(rsyslog, null)));
        SinkEvent event = access(1, Outcome.OK, AWKWARD_PATH);

        transport.deliver(List.of(event));
        RsyslogServer.Message message = rsyslog.awaitMessages(1).get(0);

        assertEquals(AWKWARD_PATH, JSON.readTree(message.msg().substring(1)).path("path").asText());
        assertEquals(JSON.readTree(event.json()), JSON.readTree(message.msg().substring(1)));
    }

    @Test
    void quotesBracketsBackslashesLineBreaksAndNonAsciiSurviveTheSdFormat() throws Exception {
        RsyslogServer rsyslog = closed.add(RsyslogServer.plain(dir.resolve("rsyslog")));
        SyslogTransport transport = closed.add(new SyslogTransport(syslog(rsyslog, "sd")));
        SinkEvent event = access(1, Outcome.OK, AWKWARD_PATH);

        transport.deliver(List.of(event));
        RsyslogServer.Message message = rsyslog.awaitMessages(1).get(0);

        Map<String, String> sd = sdOf(message);
        assertEquals(AWKWARD_PATH, sd.get("path"), message.structuredData());
        assertEquals("access", sd.get("type"));
        assertEquals("1", sd.get("seq"));
        assertEquals(event.chain(), sd.get("chain"));
        assertEquals(event.ts().toString(), sd.get("ts"));
        for (Map.Entry<String, Object> field : event.fields().entrySet()) {
            assertEquals(field.getValue() == null ? null : field.getValue().toString(), sd.get(field.getKey()),
                    field.getKey() + (field.getValue() == null ? " is null: left out" : ""));
        }
        assertEquals("", message.msg(), "no MSG: the fields are all in the structured data");
    }

    @Test
    void tlsWithTheReceiversCaDelivers() throws Exception {
        ServerIdentity identity = serverIdentity();
        RsyslogServer rsyslog = closed.add(RsyslogServer.tls(dir.resolve("rsyslog"), identity.tls()));
        SyslogTransport transport = closed.add(new SyslogTransport(tlsSyslog(rsyslog, identity.tls().caFile())));

        transport.deliver(List.of(access(1, Outcome.OK, "/over-tls"), admin(2)));
        transport.deliver(List.of(access(3, Outcome.OK, "/same-connection")));

        List<RsyslogServer.Message> received = rsyslog.awaitMessages(3);
        assertEquals(List.of("1", "2", "3"), received.stream()
                .map(m -> sdOf(m).get("seq")).toList());
        assertEquals("syslog+tls://127.0.0.1:" + rsyslog.port(), transport.target());
    }

    @Test
    void tlsWithAnotherCaFailsSayingTheCertificateIsNotTrustedAndSendsNothing() throws Exception {
        ServerIdentity identity = serverIdentity();
        RsyslogServer rsyslog = closed.add(RsyslogServer.tls(dir.resolve("rsyslog"), identity.tls()));
        LocalCa.loadOrCreate(dir.resolve("other"));
        Path otherCa = dir.resolve("other").resolve(LocalCa.DIRECTORY).resolve(LocalCa.CERTIFICATE_FILE);
        SyslogTransport untrusting = closed.add(new SyslogTransport(tlsSyslog(rsyslog, otherCa)));

        IOException refused = assertThrows(IOException.class,
                () -> untrusting.deliver(List.of(access(1, Outcome.OK, "/secret"))));

        assertEquals("TLS handshake with 127.0.0.1:" + rsyslog.port() + " failed: certificate not trusted (caFile "
                + otherCa + ")", refused.getMessage());
        // Nothing arrived: a trusted delivery after it is the first and only message.
        SyslogTransport trusting = closed.add(new SyslogTransport(tlsSyslog(rsyslog, identity.tls().caFile())));
        trusting.deliver(List.of(access(2, Outcome.OK, "/marker")));
        List<RsyslogServer.Message> received = rsyslog.awaitMessages(1);
        assertEquals(1, received.size());
        assertEquals("2", sdOf(received.get(0)).get("seq"));
    }

    @Test
    void tlsToANameTheCertificateDoesNotCarryFailsSayingSo() throws Exception {
        ServerIdentity identity = serverIdentity();
        RsyslogServer rsyslog = closed.add(RsyslogServer.tls(dir.resolve("rsyslog"), identity.tls()));
        SinkConfig elsewhere = new SinkConfig("siem", SinkConfig.SYSLOG, null, null, "127.0.0.1", rsyslog.port(),
                null, true, identity.tls().caFile().toString(), "siem.example", null, null, null, null, null, null,
                null, null);
        SyslogTransport transport = closed.add(new SyslogTransport(elsewhere));

        IOException refused = assertThrows(IOException.class,
                () -> transport.deliver(List.of(access(1, Outcome.OK, "/secret"))));

        assertTrue(refused.getMessage().startsWith("TLS handshake with 127.0.0.1:" + rsyslog.port() + " failed: the"
                + " receiver's certificate is not for siem.example ("), refused.getMessage());
    }

    @Test
    void receiverStoppedFailsDeliveryUntilItIsBackOnItsPort() throws Exception {
        RsyslogServer rsyslog = closed.add(RsyslogServer.plain(dir.resolve("rsyslog")));
        SyslogTransport transport = closed.add(new SyslogTransport(syslog(rsyslog, null)));
        transport.deliver(List.of(access(1, Outcome.OK, "/before")));
        rsyslog.awaitMessages(1);

        rsyslog.stop();
        IOException down = assertThrows(IOException.class,
                () -> transport.deliver(List.of(access(2, Outcome.OK, "/during"))));
        assertEquals("connection to 127.0.0.1:" + rsyslog.port() + " refused: is the syslog receiver listening"
                + " there?", down.getMessage());

        rsyslog.restart();
        transport.deliver(List.of(access(2, Outcome.OK, "/during")));
        transport.deliver(List.of(access(3, Outcome.OK, "/after")));
        List<RsyslogServer.Message> received = rsyslog.awaitMessages(3);
        assertEquals(List.of("1", "2", "3"), received.stream()
                .map(m -> sdOf(m).get("seq")).toList());
    }

    @Test
    void receiverThatStopsReadingFailsDeliveryAtTheWriteTimeoutInsteadOfHanging() throws Exception {
        ServerSocket stalled = closed.add(new ServerSocket());
        stalled.setReceiveBufferSize(4096);
        stalled.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        // Never accepted, never read: the kernel completes the connection and fills its buffers, then writes block.
        SinkConfig config = new SinkConfig("stalled", SinkConfig.SYSLOG, null, null, "127.0.0.1",
                stalled.getLocalPort(), null, null, null, null, null, null, null, null, null, null, null, null);
        SyslogTransport transport = closed.add(new SyslogTransport(config, Duration.ofSeconds(2),
                Duration.ofSeconds(1)));
        List<SinkEvent> many = new ArrayList<>();
        String longPath = "/" + "x".repeat(8 * 1024);
        for (int i = 1; i <= 8_000; i++) {
            many.add(access(i, Outcome.OK, longPath));
        }

        IOException timedOut = assertTimeoutPreemptively(Poll.DEADLINE,
                () -> assertThrows(IOException.class, () -> transport.deliver(many)));

        assertTrue(timedOut.getMessage().startsWith("syslog://127.0.0.1:" + stalled.getLocalPort()
                + " did not take a batch of 8000 records within 1 s (write timeout"), timedOut.getMessage());
    }

    /** The SD-ELEMENT rsyslog's mmpstrucdata parsed, which must be there. */
    private static Map<String, String> sdOf(RsyslogServer.Message message) {
        Map<String, String> sd = message.sd().get("tollgate@32473");
        assertNotNull(sd, "rsyslog parsed no tollgate@32473 element from " + message.structuredData());
        return sd;
    }

    private static SinkConfig syslog(RsyslogServer rsyslog, String format) {
        return new SinkConfig("siem", SinkConfig.SYSLOG, null, null, "127.0.0.1", rsyslog.port(), null, null, null,
                null, format, null, null, null, null, null, null, null);
    }

    private static SinkConfig tlsSyslog(RsyslogServer rsyslog, Path caFile) {
        return new SinkConfig("siem", SinkConfig.SYSLOG, null, null, "127.0.0.1", rsyslog.port(), null, true,
                caFile.toString(), null, null, null, null, null, null, null, null, null);
    }

    private record ServerIdentity(RsyslogServer.Tls tls) {
    }

    /** The receiver's CA (the interception CA's code, in a directory of the test's) and a leaf for 127.0.0.1. */
    private ServerIdentity serverIdentity() throws Exception {
        Path state = dir.resolve("receiver-ca");
        LocalCa ca = LocalCa.loadOrCreate(state);
        KeyPair pair = LocalCa.newKeyPair();
        Path cert = Files.writeString(dir.resolve("receiver-cert.pem"),
                Pem.encode(ca.signLeaf("127.0.0.1", pair.getPublic(), Instant.now())));
        Path key = Files.writeString(dir.resolve("receiver-key.pem"), keyPemForGnuTls(pair));
        return new ServerIdentity(new RsyslogServer.Tls(
                state.resolve(LocalCa.DIRECTORY).resolve(LocalCa.CERTIFICATE_FILE), cert, key));
    }

    /**
     * PKCS#8 with the curve and the public key inside the EC key, as OpenSSL writes it: GnuTLS rejects the JDK's
     * encoding ({@link Pem#encode(java.security.PrivateKey)}), which leaves both out ("ASN1 parser: Element was not
     * found").
     */
    private static String keyPemForGnuTls(KeyPair pair) throws IOException {
        SubjectPublicKeyInfo publicKey = SubjectPublicKeyInfo.getInstance(pair.getPublic().getEncoded());
        ECPrivateKey sec1 = new ECPrivateKey(256, ((java.security.interfaces.ECPrivateKey) pair.getPrivate()).getS(),
                publicKey.getPublicKeyData(), publicKey.getAlgorithm().getParameters());
        byte[] pkcs8 = new PrivateKeyInfo(publicKey.getAlgorithm(), sec1).getEncoded();
        return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(pkcs8)
                + "\n-----END PRIVATE KEY-----\n";
    }

    private static SinkEvent access(long seq, Outcome outcome, String path) {
        AccessRecord record = new AccessRecord(null, T0.plusSeconds(seq).toEpochMilli(), 12, "gw-1", "main",
                "10.0.0.7", 40_000, null, Kind.FORWARD, "HTTP/1.1", "GET", "example.com", 80, path,
                outcome == Outcome.OK ? 200 : 403, 100, 2_000, outcome == Outcome.OK ? "93.184.216.34:80" : null,
                null, outcome, outcome == Outcome.OK ? null : "host not allowed \"example.com\"", null, null, null);
        return SinkEvent.access(seq, "%064x".formatted(seq), record);
    }

    private static SinkEvent admin(long id) {
        return SinkEvent.admin(new AdminEventLog.Chained(id, new byte[32], new AdminEvent(id, T0.plusSeconds(id),
                "gw-1", "admin", "127.0.0.1", "listener.stop", "main", AdminEvent.OK, 200, null)));
    }
}
