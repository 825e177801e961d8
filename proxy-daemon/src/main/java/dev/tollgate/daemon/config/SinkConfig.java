package dev.tollgate.daemon.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One push sink of tollgate.json's top-level {@code sinks} list: a receiver every access record and admin event
 * goes to, beside the database (never instead of it), read from the audit journal with a position of its own
 * (docs/integrations.md). The keys a type does not use must be left out.
 *
 * @param name       the sink's name: in health, metrics, logs and its position file; unique
 * @param type       {@code syslog}, {@code otlp} or {@code file}
 * @param onBehind   what happens when the sink holds {@code store.journalMaxBytes} of journal it has not delivered:
 *                   {@code block} (the default: new requests wait, as when the database is down, because the log is
 *                   the product) or {@code drop} (the sink skips to the newest records, with an ERROR and a count of
 *                   what it skipped)
 * @param batchSize  records per delivery, 1 to 10,000 (500)
 * @param host       syslog: the receiver's host
 * @param port       syslog: its TCP port
 * @param protocol   syslog: {@code tcp} (the default: RFC 6587 over TCP, or RFC 5425 with {@code tls}; any syslog
 *                   receiver takes it, but nothing acknowledges a message, so records in flight when the receiver
 *                   crashes are lost) or {@code relp} (rsyslog's Reliable Event Logging Protocol, imrelp: every
 *                   record is acknowledged, and a batch not acknowledged in full is sent again, which is what makes
 *                   "nothing lost" hold; not with {@code tls})
 * @param tls        syslog: TLS (RFC 5425) rather than plain TCP (RFC 6587); false by default
 * @param caFile     syslog with TLS: a PEM file of the certificates to trust (the JDK's trust store when absent)
 * @param serverName syslog with TLS: the name the receiver's certificate must carry (the host by default)
 * @param format     syslog: {@code json} (the message is the record as JSON, the default) or {@code sd} (the fields as
 *                   RFC 5424 structured data)
 * @param facility   syslog: the facility's name ({@code local0} by default)
 * @param appName    syslog: the APP-NAME ({@code tollgate} by default)
 * @param url        otlp: the collector's logs endpoint, {@code http://host:4318/v1/logs}
 * @param headers    otlp: extra request headers; not for credentials, since tollgate.json is readable by every
 *                   local user (use headersFile)
 * @param headersFile otlp: a file of {@code Name: value} lines sent as headers too (an API key), read at start; it
 *                   must not be readable by other users (0600 or 0640)
 * @param path       file: the JSON-lines file; rotated to {@code path.1} ... {@code path.N}
 * @param maxBytes   file: the size at which it rotates (100 MiB)
 * @param maxFiles   file: rotated files kept besides the current one (5)
 */
public record SinkConfig(
        String name,
        String type,
        String onBehind,
        Integer batchSize,
        String host,
        Integer port,
        String protocol,
        Boolean tls,
        String caFile,
        String serverName,
        String format,
        String facility,
        String appName,
        String url,
        Map<String, String> headers,
        String path,
        Long maxBytes,
        Integer maxFiles,
        String headersFile) {

    public static final String SYSLOG = "syslog";
    public static final String OTLP = "otlp";
    public static final String FILE = "file";
    public static final List<String> TYPES = List.of(SYSLOG, OTLP, FILE);
    public static final String TCP = "tcp";
    public static final String RELP = "relp";
    public static final List<String> PROTOCOLS = List.of(TCP, RELP);
    public static final String BLOCK = "block";
    public static final String DROP = "drop";
    public static final int DEFAULT_BATCH_SIZE = 500;
    public static final long DEFAULT_MAX_BYTES = 100L * 1024 * 1024;
    public static final int DEFAULT_MAX_FILES = 5;
    /** The syslog facilities by name (RFC 5424 6.2.1), their codes the index. */
    public static final List<String> FACILITIES = List.of("kern", "user", "mail", "daemon", "auth", "syslog", "lpr",
            "news", "uucp", "cron", "authpriv", "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2",
            "local3", "local4", "local5", "local6", "local7");

    public SinkConfig {
        if (name == null || !name.matches("[a-z0-9][a-z0-9_-]{0,62}")) {
            throw new IllegalArgumentException("name: " + (name == null ? "is required" : "\"" + name
                    + "\" is not a valid sink name") + " (1 to 63 of a-z, 0-9, '_' and '-', starting with a letter"
                    + " or digit)");
        }
        if (type == null || !TYPES.contains(type)) {
            throw new IllegalArgumentException("type: " + (type == null ? "is required" : "\"" + type + "\" is not"
                    + " a sink type") + " (one of " + String.join(", ", TYPES) + ")");
        }
        onBehind = onBehind == null ? BLOCK : onBehind;
        if (!onBehind.equals(BLOCK) && !onBehind.equals(DROP)) {
            throw new IllegalArgumentException("onBehind: \"" + onBehind + "\" is not one of \"block\", \"drop\"");
        }
        batchSize = Checks.intInRange("batchSize", batchSize, DEFAULT_BATCH_SIZE, 1, 10_000);
        switch (type) {
            case SYSLOG -> {
                onlyFor(type, "url", url, "headers", headers, "headersFile", headersFile, "path", path, "maxBytes",
                        maxBytes, "maxFiles", maxFiles);
                if (host == null || host.isBlank()) {
                    throw new IllegalArgumentException("host: is required for a syslog sink (the receiver's name or"
                            + " address)");
                }
                host = host.trim();
                if (port == null) {
                    throw new IllegalArgumentException("port: is required for a syslog sink (1 to 65535; 6514 is"
                            + " syslog over TLS, 514 or 601 plain TCP)");
                }
                Checks.intInRange("port", port, 0, 1, 65_535);
                protocol = protocol == null ? TCP : protocol;
                if (!PROTOCOLS.contains(protocol)) {
                    throw new IllegalArgumentException("protocol: \"" + protocol + "\" is not one of \"tcp\","
                            + " \"relp\"");
                }
                tls = tls != null && tls;
                if (tls && protocol.equals(RELP)) {
                    // rsyslog's imrelp has TLS, but Tollgate's RELP client does not speak it yet (docs/security.md).
                    throw new IllegalArgumentException("protocol: \"relp\" is not supported with \"tls\": true"
                            + " (RELP over TLS is not built; use \"protocol\": \"tcp\" for TLS, or RELP on a"
                            + " trusted network)");
                }
                if (!tls && (caFile != null || serverName != null)) {
                    throw new IllegalArgumentException((caFile != null ? "caFile" : "serverName")
                            + ": is set without \"tls\": true");
                }
                format = format == null ? "json" : format;
                if (!format.equals("json") && !format.equals("sd")) {
                    throw new IllegalArgumentException("format: \"" + format + "\" is not one of \"json\", \"sd\"");
                }
                facility = facility == null ? "local0" : facility.toLowerCase(Locale.ROOT);
                if (!FACILITIES.contains(facility)) {
                    throw new IllegalArgumentException("facility: \"" + facility + "\" is not a syslog facility"
                            + " (kern, user, daemon, auth, local0 to local7, ...)");
                }
                appName = appName == null ? "tollgate" : appName;
                if (!appName.matches("[!-~]{1,48}")) {
                    throw new IllegalArgumentException("appName: \"" + appName + "\" is not an RFC 5424 APP-NAME (1"
                            + " to 48 printable ASCII characters, no spaces)");
                }
            }
            case OTLP -> {
                onlyFor(type, "host", host, "port", port, "protocol", protocol, "tls", tls, "caFile", caFile,
                        "serverName", serverName, "format", format, "facility", facility, "appName", appName, "path",
                        path, "maxBytes", maxBytes, "maxFiles", maxFiles);
                if (url == null || !url.matches("(?i)https?://[^\\s]+")) {
                    throw new IllegalArgumentException("url: " + (url == null ? "is required" : "\"" + url
                            + "\" is not an http or https URL") + " for an otlp sink (the collector's logs"
                            + " endpoint, such as http://127.0.0.1:4318/v1/logs)");
                }
                headers = headers == null ? Map.of() : Map.copyOf(headers);
                if (headersFile != null) {
                    readHeadersFile(headersFile, headers); // refused now, not at the first delivery
                }
            }
            default -> {
                onlyFor(type, "host", host, "port", port, "protocol", protocol, "tls", tls, "caFile", caFile,
                        "serverName", serverName, "format", format, "facility", facility, "appName", appName, "url",
                        url, "headers", headers, "headersFile", headersFile);
                if (path == null || path.isBlank()) {
                    throw new IllegalArgumentException("path: is required for a file sink (the JSON-lines file)");
                }
                maxBytes = Checks.longInRange("maxBytes", maxBytes, DEFAULT_MAX_BYTES, 64 * 1024,
                        1024L * 1024 * 1024 * 1024);
                maxFiles = Checks.intInRange("maxFiles", maxFiles, DEFAULT_MAX_FILES, 1, 1000);
            }
        }
    }

    /** The facility's code (RFC 5424 6.2.1). */
    public int facilityCode() {
        return FACILITIES.indexOf(facility);
    }

    /** Whether this syslog sink speaks RELP, whose receiver acknowledges each record. */
    public boolean relp() {
        return RELP.equals(protocol);
    }

    /** Whether new requests wait for this sink when it is {@code store.journalMaxBytes} behind. */
    public boolean blocks() {
        return BLOCK.equals(onBehind);
    }

    /** The settings before {@code headersFile}, without one. */
    public SinkConfig(String name, String type, String onBehind, Integer batchSize, String host, Integer port,
                      String protocol, Boolean tls, String caFile, String serverName, String format, String facility,
                      String appName, String url, Map<String, String> headers, String path, Long maxBytes,
                      Integer maxFiles) {
        this(name, type, onBehind, batchSize, host, port, protocol, tls, caFile, serverName, format, facility,
                appName, url, headers, path, maxBytes, maxFiles, null);
    }

    /**
     * Every header an otlp sink sends: {@code headers} and those of {@code headersFile}, read now (at start).
     *
     * @throws IllegalArgumentException naming the file and the line when it cannot be used; never quoting a value
     */
    public Map<String, String> allHeaders() {
        if (headersFile == null) {
            return headers;
        }
        return readHeadersFile(headersFile, headers);
    }

    /**
     * Reads a headers file after checking that only its owner and group may read it: it holds a collector's
     * credentials, which tollgate.json (0644) must not. Lines are {@code Name: value}; blank lines and lines
     * starting with {@code #} are skipped. A value never appears in a message.
     */
    private static Map<String, String> readHeadersFile(String file, Map<String, String> headers) {
        if (file.isBlank()) {
            throw new IllegalArgumentException("headersFile: must not be empty (leave it out for no file)");
        }
        Path path = Path.of(file);
        List<String> lines;
        try {
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(path);
            if (mode.contains(PosixFilePermission.OTHERS_READ)) {
                throw new IllegalArgumentException("headersFile: " + file + " is readable by every local user (mode "
                        + PosixFilePermissions.toString(mode) + "); it holds credentials: chmod 0640 (group tollgate)"
                        + " or 0600");
            }
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("headersFile: " + file + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException("headersFile: " + file + ": cannot be read (" + e.getClass()
                    .getSimpleName() + "; it must be readable by the daemon's user)");
        }
        Map<String, String> all = new LinkedHashMap<>(headers);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("headersFile: " + file + " line " + (i + 1) + " is not"
                        + " \"Name: value\"");
            }
            String header = line.substring(0, colon).strip();
            if (all.keySet().stream().anyMatch(header::equalsIgnoreCase)) {
                throw new IllegalArgumentException("headersFile: " + file + " line " + (i + 1) + ": " + header
                        + " is given twice (in headers or earlier in the file)");
            }
            all.put(header, line.substring(colon + 1).strip());
        }
        return Map.copyOf(all);
    }

    /** Refuses a key another type of sink uses: keys and values in pairs. */
    private static void onlyFor(String type, Object... keysAndValues) {
        for (int i = 0; i < keysAndValues.length; i += 2) {
            if (keysAndValues[i + 1] != null) {
                throw new IllegalArgumentException(keysAndValues[i] + ": is not a key of a " + type + " sink");
            }
        }
    }
}
