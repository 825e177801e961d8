package dev.tollgate.daemon.config;

import dev.tollgate.store.StoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

    private static final String SOURCE = "/etc/tollgate/tollgate.json";

    @TempDir
    Path dir;

    // ---- defaults ----------------------------------------------------------------------------------------

    /** The shipped etc/tollgate.json writes out the embedded defaults: the README says they are the same. */
    @Test
    void shippedConfigFileIsTheEmbeddedDefaults() {
        TollgateConfig shipped = ConfigLoader.load(Path.of("..", "etc", "tollgate.json"));
        assertEquals(TollgateConfig.defaults(), shipped);
    }

    @Test
    void embeddedDefaultsRunOneLoopbackListenerAndALocalAdminApi() {
        TollgateConfig config = TollgateConfig.defaults();

        assertEquals(1, config.listeners().size());
        ListenerConfig listener = config.listeners().get(0);
        assertEquals("default", listener.name());
        assertEquals("127.0.0.1", listener.host());
        assertEquals(3128, listener.port());
        assertEquals(List.of(443), listener.connectPorts());
        assertEquals(List.of("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"),
                listener.allowClients());
        assertEquals(List.of("127.0.0.0/8", "::1/128", "0.0.0.0/8", "169.254.0.0/16", "fe80::/10"),
                listener.denyDestinations());
        assertEquals(10_000L, listener.connectTimeoutMs());
        assertEquals(60_000L, listener.idleTimeoutMs());
        assertFalse(listener.logQuery());

        assertEquals("127.0.0.1", config.admin().host());
        assertEquals(9090, config.admin().port());

        assertEquals("./tollgate-data", config.stateDir());
        Path stateDir = Path.of("./tollgate-data").toAbsolutePath().normalize();
        assertEquals(stateDir, config.stateDirPath());
        assertEquals(10_000L, config.drainTimeoutMs());
        assertNotNull(config.nodeName());
        assertTrue(config.nodeName().matches("[A-Za-z0-9._-]{1,255}"), config.nodeName());

        StoreConfig store = config.store();
        assertEquals("jdbc:h2:file:" + stateDir.resolve("access"), store.url());
        assertEquals("tollgate", store.user());
        assertEquals("", store.password());
        assertEquals(500, store.batchSize());
        assertEquals(200, store.flushIntervalMs());
        assertEquals(65_536, store.queueCapacity());
        assertEquals(1024L * 1024 * 1024, store.journalMaxBytes());
    }

    @Test
    void defaultConstantsHaveTheDocumentedValues() {
        assertEquals("default", ListenerConfig.DEFAULT_NAME);
        assertEquals("127.0.0.1", ListenerConfig.DEFAULT_HOST);
        assertEquals(3128, ListenerConfig.DEFAULT_PORT);
        assertEquals(List.of(443), ListenerConfig.DEFAULT_CONNECT_PORTS);
        assertEquals(10_000L, ListenerConfig.DEFAULT_CONNECT_TIMEOUT_MS);
        assertEquals(60_000L, ListenerConfig.DEFAULT_IDLE_TIMEOUT_MS);
        assertEquals(86_400_000L, ListenerConfig.MAX_TIMEOUT_MS);
        assertTrue(ListenerConfig.DEFAULT_DENY_DESTINATIONS.contains("169.254.0.0/16"));
        assertTrue(ListenerConfig.DEFAULT_ALLOW_CLIENTS.contains("127.0.0.0/8"));

        assertEquals("127.0.0.1", AdminConfig.DEFAULT_HOST);
        assertEquals(9090, AdminConfig.DEFAULT_PORT);

        assertEquals("./tollgate-data", TollgateConfig.DEFAULT_STATE_DIR);
        assertEquals(10_000L, TollgateConfig.DEFAULT_DRAIN_TIMEOUT_MS);
        assertEquals(3_600_000L, TollgateConfig.MAX_DRAIN_TIMEOUT_MS);

        assertEquals("tollgate", StoreConfig.DEFAULT_USER);
        assertEquals("", StoreConfig.DEFAULT_PASSWORD);
        assertEquals(500, StoreConfig.DEFAULT_BATCH_SIZE);
        assertEquals(10_000, StoreConfig.MAX_BATCH_SIZE);
        assertEquals(200, StoreConfig.DEFAULT_FLUSH_INTERVAL_MS);
        assertEquals(60_000, StoreConfig.MAX_FLUSH_INTERVAL_MS);
        assertEquals(65_536, StoreConfig.DEFAULT_QUEUE_CAPACITY);
        assertEquals(10_000_000, StoreConfig.MAX_QUEUE_CAPACITY);
    }

    @Test
    void anEmptyObjectMeansTheEmbeddedDefaults() {
        TollgateConfig parsed = ConfigLoader.parse(SOURCE, "{}");
        TollgateConfig defaults = TollgateConfig.defaults();

        assertEquals(defaults, parsed);
    }

    @Test
    void aListenerWithOnlyANameGetsEveryOtherDefault() {
        TollgateConfig config = ConfigLoader.parse(SOURCE, "{\"listeners\": [{\"name\": \"office\"}]}");

        ListenerConfig listener = config.listeners().get(0);
        assertEquals(new ListenerConfig("office", "127.0.0.1", 3128, List.of(443),
                ListenerConfig.DEFAULT_ALLOW_CLIENTS, null, ListenerConfig.DEFAULT_DENY_DESTINATIONS, false, null,
                null, null, null, 10_000L, 60_000L, null, null, false, null), listener);
    }

    @Test
    void aStateDirMovesTheDefaultDatabaseWithIt() {
        TollgateConfig config = ConfigLoader.parse(SOURCE, "{\"stateDir\": \"/var/lib/tollgate\"}");

        assertEquals(Path.of("/var/lib/tollgate"), config.stateDirPath());
        assertEquals("jdbc:h2:file:/var/lib/tollgate/access", config.store().url());
    }

    // ---- a full valid file ---------------------------------------------------------------------------------

    @Test
    void aFullFileWithCommentsAndTrailingCommasParses() throws Exception {
        Path file = dir.resolve("tollgate.json");
        Files.writeString(file, """
                // Tollgate, full example
                {
                  # the node's name in every row
                  "nodeName": "gate-1",
                  "stateDir": "/srv/tollgate",   // database, tokens
                  "drainTimeoutMs": 2500,
                  /* block comments work too */
                  "listeners": [
                    {
                      "name": "office",
                      "host": "0.0.0.0",
                      "port": 8080,
                      "connectPorts": [443, 8443],
                      "allowClients": ["10.1.0.0/16", "2001:db8::/32"],
                      "denyDestinations": ["169.254.169.254/32"],
                      "connectTimeoutMs": 3000,
                      "idleTimeoutMs": 45000,
                      "logQuery": true,
                    },
                    {"name": "lab.2", "port": 3129},
                  ],
                  "admin": {"host": "127.0.0.2", "port": 9191},
                  "store": {
                    "url": "jdbc:postgresql://127.0.0.1:5432/audit",
                    "user": "audit",
                    "password": "secret",
                    "batchSize": 1000,
                    "flushIntervalMs": 50,
                    "queueCapacity": 1024,
                    "journalSegmentBytes": 1048576,
                    "fsync": true,
                  },
                }
                """);

        TollgateConfig config = ConfigLoader.load(file);

        assertEquals("gate-1", config.nodeName());
        assertEquals("/srv/tollgate", config.stateDir());
        assertEquals(2500L, config.drainTimeoutMs());
        assertEquals(List.of(
                new ListenerConfig("office", "0.0.0.0", 8080, List.of(443, 8443), List.of("10.1.0.0/16",
                        "2001:db8::/32"), null, List.of("169.254.169.254/32"), false, null, null, null, null,
                        3000L, 45_000L, null, null, true, null),
                new ListenerConfig("lab.2", "127.0.0.1", 3129, List.of(443), ListenerConfig.DEFAULT_ALLOW_CLIENTS,
                        null, ListenerConfig.DEFAULT_DENY_DESTINATIONS, false, null, null, null, null, 10_000L,
                        60_000L, null, null, false, null)),
                config.listeners());
        assertEquals(new AdminConfig("127.0.0.2", 9191, List.of()), config.admin());
        assertEquals(new StoreConfig("jdbc:postgresql://127.0.0.1:5432/audit", "audit", "secret", null, 1000, 50, 1024,
                null, null, null, 1_048_576, true), config.store());
    }

    @Test
    void twoListenersOnPortZeroMayShareAHost() {
        TollgateConfig config = ConfigLoader.parse(SOURCE,
                "{\"listeners\": [{\"name\": \"a\", \"port\": 0}, {\"name\": \"b\", \"port\": 0}]}");

        assertEquals(2, config.listeners().size());
    }

    @Test
    void anEmptyListOfDeniedDestinationsIsKeptEmpty() {
        TollgateConfig config = ConfigLoader.parse(SOURCE, "{\"listeners\": [{\"denyDestinations\": []}]}");

        assertEquals(List.of(), config.listeners().get(0).denyDestinations());
    }

    // ---- bad values: each names the source, the key path, the value and the limit --------------------------

    @Test
    void aListenerPortAbove65535IsRefused() {
        String message = failure("{\"listeners\": [{\"name\": \"a\", \"port\": 70000}]}");

        assertMentions(message, "listeners[0].port", "70000", "0 to 65535");
    }

    @Test
    void aPortOutOfRangeInTheSecondListenerNamesThatListener() {
        String message = failure("{\"listeners\": [{\"name\": \"a\"}, {\"name\": \"b\", \"port\": -1}]}");

        assertMentions(message, "listeners[1].port", "-1", "0 to 65535");
    }

    @Test
    void anAdminPortAbove65535IsRefused() {
        String message = failure("{\"admin\": {\"port\": 65536}}");

        assertMentions(message, "admin.port", "65536", "0 to 65535");
    }

    @Test
    void aNegativeConnectTimeoutIsRefused() {
        String message = failure("{\"listeners\": [{\"connectTimeoutMs\": -5}]}");

        assertMentions(message, "listeners[0].connectTimeoutMs", "-5", "1 to 86400000");
    }

    @Test
    void aClientHelloTimeoutAboveAMinuteIsRefusedNamingItsKey() {
        String message = failure("{\"listeners\": [{\"tls\": {\"clientHelloTimeoutMs\": 60001}}]}");

        assertMentions(message, "listeners[0].tls.clientHelloTimeoutMs", "60001", "1 to 60000");
    }

    @Test
    void limitsOutOfRangeOrInTheWrongPlaceAreRefusedNamingTheirKey() {
        assertMentions(failure("{\"listeners\": [{\"limits\": {\"perHost\": {\"maxTunnels\": 1000001}}}]}"),
                "listeners[0].limits.perHost.maxTunnels", "1000001", "0 to 1000000");
        assertMentions(failure("{\"listeners\": [{\"limits\": {\"perUser\": {\"bytesPerSecond\": 100}}}]}"),
                "listeners[0].limits.perUser.bytesPerSecond", "100", "1024 to");
        assertMentions(failure("{\"listeners\": [{\"limits\": {\"perClient\": {\"bytesPerSecond\": 4096}}}]}"),
                "listeners[0].limits.perClient.bytesPerSecond", "4096", "per user");
        assertMentions(failure("{\"listeners\": [{\"limits\": {\"perClient\": {\"burst\": 10}}}]}"),
                "listeners[0].limits.perClient.burst", "10", "requestsPerMinute");
        assertMentions(failure("{\"listeners\": [{\"limits\": {\"maxTrackedKeys\": 5}}]}"),
                "listeners[0].limits.maxTrackedKeys", "5", "10 to 10000000");
        assertMentions(failure("{\"listeners\": [{\"limits\": {\"maxTunnelLifetimeMs\": -1}}]}"),
                "listeners[0].limits.maxTunnelLifetimeMs", "-1", "0 to 86400000");
    }

    @Test
    void sinksAreCheckedKeyByKeyAndNameTheirIndex() {
        assertMentions(failure("{\"sinks\": [{\"name\": \"siem\", \"type\": \"kafka\"}]}"),
                "sinks[0].type", "kafka", "syslog, otlp, file");
        assertMentions(failure("{\"sinks\": [{\"name\": \"Bad Name\", \"type\": \"file\", \"path\": \"/x\"}]}"),
                "sinks[0].name", "Bad Name", "a-z, 0-9");
        assertMentions(failure("{\"sinks\": [{\"name\": \"siem\", \"type\": \"syslog\", \"host\": \"h\"}]}"),
                "sinks[0].port", "required");
        assertMentions(failure("{\"sinks\": [{\"name\": \"siem\", \"type\": \"syslog\", \"host\": \"h\","
                + " \"port\": 70000}]}"), "sinks[0].port", "70000", "1 to 65535");
        assertMentions(failure("{\"sinks\": [{\"name\": \"siem\", \"type\": \"syslog\", \"host\": \"h\","
                + " \"port\": 514, \"caFile\": \"/ca.pem\"}]}"), "sinks[0].caFile", "without", "tls");
        assertMentions(failure("{\"sinks\": [{\"name\": \"siem\", \"type\": \"syslog\", \"host\": \"h\","
                + " \"port\": 514, \"facility\": \"local9\"}]}"), "sinks[0].facility", "local9");
        assertMentions(failure("{\"sinks\": [{\"name\": \"siem\", \"type\": \"syslog\", \"host\": \"h\","
                + " \"port\": 2514, \"protocol\": \"udp\"}]}"), "sinks[0].protocol", "udp", "tcp", "relp");
        assertMentions(failure("{\"sinks\": [{\"name\": \"siem\", \"type\": \"syslog\", \"host\": \"h\","
                + " \"port\": 2514, \"protocol\": \"relp\", \"tls\": true}]}"), "sinks[0].protocol", "relp",
                "tls", "not supported");
        assertMentions(failure("{\"sinks\": [{\"name\": \"otel\", \"type\": \"otlp\", \"url\": \"http://x\","
                + " \"protocol\": \"relp\"}]}"), "sinks[0].protocol", "not a key of a otlp sink");
        assertMentions(failure("{\"sinks\": [{\"name\": \"siem\", \"type\": \"syslog\", \"host\": \"h\","
                + " \"port\": 514, \"path\": \"/x\"}]}"), "sinks[0].path", "not a key of a syslog sink");
        assertMentions(failure("{\"sinks\": [{\"name\": \"otel\", \"type\": \"otlp\", \"url\": \"ftp://x\"}]}"),
                "sinks[0].url", "ftp://x", "http");
        assertMentions(failure("{\"sinks\": [{\"name\": \"f\", \"type\": \"file\", \"path\": \"/x\","
                + " \"maxBytes\": 1000}]}"), "sinks[0].maxBytes", "1000", "65536 to");
        assertMentions(failure("{\"sinks\": [{\"name\": \"f\", \"type\": \"file\", \"path\": \"/x\","
                + " \"onBehind\": \"wait\"}]}"), "sinks[0].onBehind", "wait", "block", "drop");
        assertMentions(failure("{\"sinks\": [{\"name\": \"f\", \"type\": \"file\", \"path\": \"/x\"},"
                + " {\"name\": \"f\", \"type\": \"file\", \"path\": \"/y\"}]}"), "sinks[1].name", "unique");
    }

    @Test
    void anOtlpHeadersFileMustBeClosedToOtherUsersAndNeverHasItsValuesQuoted(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("otel.headers");
        Files.writeString(file, "# the collector's key\nAuthorization: Bearer s3cret-key\n\nX-Scope: tollgate\n");
        String sink = "{\"sinks\": [{\"name\": \"otel\", \"type\": \"otlp\", \"url\": \"http://127.0.0.1:4318/v1/logs\","
                + " \"headersFile\": \"" + file + "\"}]}";

        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        assertMentions(failure(sink), "sinks[0].headersFile", file.toString(), "readable by every local user",
                "0640");

        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
        SinkConfig otel = ConfigLoader.parse(SOURCE, sink).sinks().get(0);
        assertEquals(Map.of("Authorization", "Bearer s3cret-key", "X-Scope", "tollgate"), otel.allHeaders());

        Files.writeString(file, "Authorization Bearer s3cret-key\n");
        String message = failure(sink);
        assertMentions(message, "sinks[0].headersFile", "line 1", "Name: value");
        assertFalse(message.contains("s3cret"), message);
    }

    @Test
    void aSinkTakesItsDefaults() {
        SinkConfig syslog = ConfigLoader.parse(SOURCE, "{\"sinks\": [{\"name\": \"siem\", \"type\": \"syslog\","
                + " \"host\": \"127.0.0.1\", \"port\": 6514, \"tls\": true}]}").sinks().get(0);
        assertEquals("block", syslog.onBehind());
        assertEquals(500, syslog.batchSize());
        assertEquals("json", syslog.format());
        assertEquals(16, syslog.facilityCode(), "local0");
        assertEquals("tollgate", syslog.appName());
        assertEquals("tcp", syslog.protocol(), "plain syslog by default: any receiver takes it");
        assertFalse(syslog.relp());
        assertEquals(List.of(), TollgateConfig.defaults().sinks());
    }

    @Test
    void limitsTakeTheirDefaultsAndABurstOfOneSecondsWorth() {
        ListenerConfig listener = ConfigLoader.parse(SOURCE, "{\"listeners\": [{\"limits\": {\"perClient\":"
                + " {\"requestsPerMinute\": 600}}}]}").listeners().get(0);
        assertEquals(10, listener.limits().perClient().burst());
        assertEquals(LimitsConfig.none().perUser(), listener.limits().perUser());
        assertEquals(LimitsConfig.DEFAULT_MAX_TRACKED_KEYS, listener.limits().maxTrackedKeys());
        assertEquals(LimitsConfig.none(), ListenerConfig.defaults().limits());
    }

    @Test
    void allowMissingSniWithoutRequireSniMatchIsRefused() {
        String message = failure("{\"listeners\": [{\"tls\": {\"allowMissingSni\": true}}]}");

        assertMentions(message, "listeners[0].tls.allowMissingSni", "requireSniMatch");
    }

    @Test
    void aMethodThatIsNotATokenOrIsConnectIsRefused() {
        assertMentions(failure("{\"listeners\": [{\"allowMethods\": [\"GET\", \"BAD METHOD\"]}]}"),
                "allowMethods[1]", "\"BAD METHOD\"", "1 to 32");
        assertMentions(failure("{\"listeners\": [{\"allowMethods\": [\"CONNECT\"]}]}"),
                "allowMethods[0]", "CONNECT", "connectPorts");
    }

    @Test
    void aModeThatIsNeitherEnforceNorReportIsRefused() {
        assertMentions(failure("{\"listeners\": [{\"mode\": \"audit\"}]}"), "listeners[0].mode", "\"audit\"",
                "\"enforce\", \"report\"");
    }

    @Test
    void aNegativeIdleTimeoutIsRefused() {
        String message = failure("{\"listeners\": [{\"idleTimeoutMs\": -1}]}");

        assertMentions(message, "listeners[0].idleTimeoutMs", "-1", "1 to 86400000");
    }

    @Test
    void aNegativeDrainTimeoutIsRefused() {
        String message = failure("{\"drainTimeoutMs\": -1000}");

        assertMentions(message, "drainTimeoutMs", "-1000", "0 to 3600000");
    }

    @Test
    void connectPortZeroIsRefused() {
        String message = failure("{\"listeners\": [{\"connectPorts\": [443, 0]}]}");

        assertMentions(message, "listeners[0].connectPorts[1]", "0", "1 to 65535");
    }

    @Test
    void aBadNetworkInAllowClientsIsRefused() {
        String message = failure("{\"listeners\": [{\"allowClients\": [\"10.0.0.0/8\", \"10.0.0.0/33\"]}]}");

        assertMentions(message, "listeners[0].allowClients[1]", "10.0.0.0/33", "0 to 32");
    }

    @Test
    void aMalformedDomainPatternInDenyDestinationsIsRefused() {
        String message = failure("{\"listeners\": [{\"denyDestinations\": [\"*.exa mple.com\"]}]}");

        assertMentions(message, "listeners[0].denyDestinations[0]", "*.exa mple.com", "*.example.com");
    }

    @Test
    void destinationListsTakeNetworksAndTheThreeKindsOfDomainPattern() {
        TollgateConfig config = ConfigLoader.parse(SOURCE, "{\"listeners\": [{\"allowDestinations\":"
                + " [\"example.com\", \"*.example.org\", \".example.net\", \"192.0.2.0/24\"],"
                + " \"denyDestinations\": [\"metadata.internal\", \"169.254.0.0/16\"]}]}");

        ListenerConfig listener = config.listeners().get(0);
        assertEquals(4, listener.allowDestinations().size());
        assertEquals(List.of("metadata.internal", "169.254.0.0/16"), listener.denyDestinations());
    }

    @Test
    void connectPortsTakeRangesBesideWholeNumbers() {
        TollgateConfig config = ConfigLoader.parse(SOURCE,
                "{\"listeners\": [{\"connectPorts\": [443, \"8443-8445\"]}]}");

        assertEquals(List.of(443, "8443-8445"), config.listeners().get(0).connectPorts());
    }

    @Test
    void aBackwardsConnectPortRangeIsRefused() {
        String message = failure("{\"listeners\": [{\"connectPorts\": [443, \"8445-8443\"]}]}");

        assertMentions(message, "listeners[0].connectPorts[1]", "8445-8443", "1 to 65535");
    }

    @Test
    void aConnectPortThatIsNeitherNumberNorRangeIsRefused() {
        String message = failure("{\"listeners\": [{\"connectPorts\": [true]}]}");

        assertMentions(message, "listeners[0].connectPorts[0]", "true", "8443-8445");
    }

    @Test
    void basicAuthWithoutAUsersFileIsRefused() {
        String message = failure("{\"listeners\": [{\"auth\": {\"type\": \"basic\"}}]}");

        assertMentions(message, "listeners[0].auth.usersFile", "required", "basic");
    }

    @Test
    void anUnknownAuthTypeIsRefused() {
        String message = failure("{\"listeners\": [{\"auth\": {\"type\": \"digest\"}}]}");

        assertMentions(message, "listeners[0].auth.type", "digest", "\"none\" or \"basic\"");
    }

    @Test
    void anUnknownForwardedForModeIsRefused() {
        String message = failure("{\"listeners\": [{\"forwardedFor\": \"yes\"}]}");

        assertMentions(message, "listeners[0].forwardedFor", "yes", "\"delete\"");
    }

    @Test
    void anUpstreamProxyWithoutAPortIsRefused() {
        String message = failure("{\"listeners\": [{\"upstreamProxy\": {\"host\": \"parent\"}}]}");

        assertMentions(message, "listeners[0].upstreamProxy.port", "required", "1 to 65535");
    }

    @Test
    void anUpstreamProxyUsernameWithoutAPasswordFileIsRefused() {
        String message = failure("{\"listeners\": [{\"upstreamProxy\": {\"host\": \"parent\", \"port\": 8080,"
                + " \"username\": \"gate\"}}]}");

        assertMentions(message, "listeners[0].upstreamProxy.passwordFile", "required with username");
    }

    @Test
    void maxConnectionsZeroIsRefused() {
        String message = failure("{\"listeners\": [{\"maxConnections\": 0}]}");

        assertMentions(message, "listeners[0].maxConnections", "0", "1 to 1000000");
    }

    @Test
    void aRequestHeaderTimeoutOfZeroIsRefused() {
        String message = failure("{\"listeners\": [{\"requestHeaderTimeoutMs\": 0}]}");

        assertMentions(message, "listeners[0].requestHeaderTimeoutMs", "0", "1 to 86400000");
    }

    @Test
    void aListenerNameWithASpaceIsRefused() {
        String message = failure("{\"listeners\": [{\"name\": \"my listener\"}]}");

        assertMentions(message, "listeners[0].name", "\"my listener\"", "1 to 64");
    }

    @Test
    void twoListenersWithOneNameAreRefused() {
        String message = failure("{\"listeners\": [{\"name\": \"a\", \"port\": 3128}, {\"name\": \"a\", \"port\":"
                + " 3129}]}");

        assertMentions(message, "listeners[1].name", "\"a\"", "unique");
    }

    @Test
    void twoListenersOnOneHostAndPortAreRefused() {
        String message = failure("{\"listeners\": [{\"name\": \"a\", \"port\": 3128}, {\"name\": \"b\", \"port\":"
                + " 3128}]}");

        assertMentions(message, "listeners[1].port", "127.0.0.1:3128", "another listener");
    }

    @Test
    void aBatchSizeOfZeroIsRefused() {
        String message = failure("{\"store\": {\"batchSize\": 0}}");

        assertMentions(message, "store.batchSize", "0", "1 to 10000");
    }

    @Test
    void aFlushIntervalAboveAMinuteIsRefused() {
        String message = failure("{\"store\": {\"flushIntervalMs\": 60001}}");

        assertMentions(message, "store.flushIntervalMs", "60001", "1 to 60000");
    }

    @Test
    void aQueueCapacityOfZeroIsRefused() {
        String message = failure("{\"store\": {\"queueCapacity\": 0}}");

        assertMentions(message, "store.queueCapacity", "0", "1 to 10000000");
    }

    @Test
    void aJournalLimitBelowFourSegmentsIsRefusedWithTheFloor() {
        String message = failure("{\"store\": {\"journalSegmentBytes\": 65536, \"journalMaxBytes\": 100000}}");

        assertMentions(message, "store.journalMaxBytes", "100000", "262144");
    }

    @Test
    void aStoreUrlThatIsNotJdbcIsRefused() {
        String message = failure("{\"store\": {\"url\": \"postgres://127.0.0.1/audit\"}}");

        assertMentions(message, "store.url", "postgres://127.0.0.1/audit", "jdbc:");
    }

    @Test
    void aBadNodeNameIsRefused() {
        String message = failure("{\"nodeName\": \"gate 1\"}");

        assertMentions(message, "nodeName", "\"gate 1\"");
    }

    @Test
    void anEmptyListenerHostIsRefused() {
        String message = failure("{\"listeners\": [{\"host\": \" \"}]}");

        assertMentions(message, "listeners[0].host", "empty");
    }

    // ---- unknown keys and wrong types --------------------------------------------------------------------

    @Test
    void anUnknownTopLevelKeyIsNamedWithTheKnownKeys() {
        String message = failure("{\"listners\": []}");

        assertMentions(message, "\"listners\"", "known keys", "listeners", "stateDir", "store", "admin");
    }

    @Test
    void anUnknownKeyInsideAListenerIsNamedWithItsPath() {
        String message = failure("{\"listeners\": [{\"name\": \"a\"}, {\"name\": \"b\", \"prot\": 3129}]}");

        assertMentions(message, "listeners[1].prot", "known keys", "port", "connectPorts", "idleTimeoutMs");
    }

    @Test
    void anUnknownKeyInsideTheStoreIsNamedWithItsPath() {
        String message = failure("{\"store\": {\"batch\": 10}}");

        assertMentions(message, "store.batch", "known keys", "batchSize");
    }

    @Test
    void aPortWrittenAsWordsIsAWrongType() {
        String message = failure("{\"listeners\": [{\"port\": \"abc\"}]}");

        assertMentions(message, "listeners[0].port", "\"abc\"", "whole number");
    }

    @Test
    void listenersWrittenAsAnObjectIsAWrongType() {
        String message = failure("{\"listeners\": {\"name\": \"a\"}}");

        assertMentions(message, "listeners: wrong type, expected a list [...], found an object {...}");
    }

    @Test
    void connectPortsWrittenAsOneStringIsAWrongType() {
        String message = failure("{\"listeners\": [{\"connectPorts\": \"443\"}]}");

        assertMentions(message, "listeners[0].connectPorts: wrong type, expected a list [...], found a string");
    }

    @Test
    void aFractionalPortIsRefusedRatherThanTruncated() {
        String message = failure("{\"listeners\": [{\"port\": 3128.5}]}");

        assertMentions(message, "listeners[0].port", "3128.5", "whole number");
    }

    @Test
    void aPortTooBigForANumberIsRefused() {
        String message = failure("{\"listeners\": [{\"port\": 99999999999}]}");

        assertMentions(message, "listeners[0].port", "99999999999");
    }

    @Test
    void aDrainTimeoutTooBigForANumberIsRefused() {
        String message = failure("{\"drainTimeoutMs\": 99999999999999999999}");

        assertMentions(message, "drainTimeoutMs", "99999999999999999999");
    }

    @Test
    void aNullConnectPortIsRefused() {
        String message = failure("{\"listeners\": [{\"connectPorts\": [443, null]}]}");

        assertMentions(message, "listeners[0].connectPorts[1]", "null", "1 to 65535");
    }

    @Test
    void interceptIsOffByDefaultAndReadWithItsBypassListAndTrustBundle() {
        assertEquals(InterceptConfig.off(), TollgateConfig.defaults().listeners().get(0).intercept());
        ListenerConfig listener = ConfigLoader.parse(SOURCE, "{\"listeners\": [{\"intercept\": {\"enabled\": true,"
                + " \"bypass\": [\".bank.example\", \"10.1.2.3\"], \"trustBundle\": \"/etc/ssl/corp.pem\"}}]}")
                .listeners().get(0);
        assertEquals(new InterceptConfig(true, List.of(".bank.example", "10.1.2.3"), "/etc/ssl/corp.pem"),
                listener.intercept());
    }

    @Test
    void anInterceptBypassEntryThatIsNoDomainPatternIsRefusedByIndex() {
        String message = failure("{\"listeners\": [{\"intercept\": {\"enabled\": true, \"bypass\": [\"ok.example\","
                + " \"bad..example\"]}}]}");

        assertMentions(message, "listeners[0].intercept.bypass[1]", "bad..example");
    }

    @Test
    void anUnknownInterceptKeyIsNamed() {
        String message = failure("{\"listeners\": [{\"intercept\": {\"enabled\": true, \"bypas\": []}}]}");

        assertMentions(message, "listeners[0].intercept.bypas", "trustBundle");
    }

    @Test
    void logQueryWrittenAsAStringIsAWrongType() {
        String message = failure("{\"listeners\": [{\"logQuery\": \"yes\"}]}");

        assertMentions(message, "listeners[0].logQuery", "\"yes\"", "boolean");
    }

    @Test
    void aTopLevelListIsAWrongType() {
        String message = failure("[]");

        assertMentions(message, "the top level: wrong type, expected an object {...}, found a list [...]");
    }

    @Test
    void aFileThatSaysNullIsRefused() {
        String message = failure("null");

        assertMentions(message, "must be a JSON object, not null");
    }

    @Test
    void aNullListenerIsRefused() {
        String message = failure("{\"listeners\": [null]}");

        assertMentions(message, "listeners[0]: must be an object, not null");
    }

    @Test
    void aKeyWrittenTwiceIsRefused() {
        String message = failure("{\"stateDir\": \"/a\", \"stateDir\": \"/b\"}");

        assertMentions(message, "stateDir");
    }

    // ---- files that are not JSON, empty or missing ----------------------------------------------------------

    @Test
    void invalidJsonNamesTheLineAndColumn() {
        String message = failure("{\n  \"stateDir\": \"/a\"\n  \"drainTimeoutMs\": 5\n}");

        assertMentions(message, "invalid JSON", "line 3", "column 3");
    }

    @Test
    void anUnclosedObjectIsInvalidJson() {
        String message = failure("{\"listeners\": [");

        assertMentions(message, "invalid JSON at line 1", "end-of-input");
        assertFalse(message.contains("REDACTED"), message);
    }

    @Test
    void trailingTextAfterTheObjectIsRefused() {
        String message = failure("{}\n{}");

        assertMentions(message, "invalid JSON at line 2", "more text after the end");
    }

    @Test
    void anEmptyFileIsRefusedWithAHint() throws Exception {
        Path file = dir.resolve("empty.json");
        Files.writeString(file, "  \n");

        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));

        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        assertTrue(e.getMessage().contains("{}"), e.getMessage());
        assertOneLine(e.getMessage());
    }

    @Test
    void aMissingFileIsNamed() {
        Path file = dir.resolve("nowhere").resolve("tollgate.json");

        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));

        assertEquals(file + ": no such file", e.getMessage());
    }

    @Test
    void aDirectoryInsteadOfAFileIsRefused() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir));

        assertTrue(e.getMessage().startsWith(dir + ": "), e.getMessage());
        assertOneLine(e.getMessage());
    }

    @Test
    void aBadValueInAFileNamesTheFile() throws Exception {
        Path file = dir.resolve("tollgate.json");
        Files.writeString(file, "{\"listeners\": [{\"port\": 70000}]}");

        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));

        assertTrue(e.getMessage().startsWith(file + ": listeners[0].port: 70000"), e.getMessage());
        assertOneLine(e.getMessage());
    }

    // ---- helpers ---------------------------------------------------------------------------------------------

    private static String failure(String json) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(SOURCE, json));
        String message = e.getMessage();
        assertNotNull(message);
        assertTrue(message.startsWith(SOURCE + ": "), "message should start with the source: " + message);
        assertOneLine(message);
        return message;
    }

    private static void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "expected \"" + part + "\" in: " + message);
        }
    }

    private static void assertOneLine(String message) {
        assertFalse(message.contains("\n") || message.contains("\r"), "message should be one line: " + message);
    }
}
