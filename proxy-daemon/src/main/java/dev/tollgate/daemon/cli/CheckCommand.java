package dev.tollgate.daemon.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.tollgate.daemon.Daemon;
import dev.tollgate.daemon.ListenerFiles;
import dev.tollgate.daemon.config.ConfigException;
import dev.tollgate.daemon.config.ConfigLoader;
import dev.tollgate.daemon.config.TollgateConfig;
import dev.tollgate.store.internal.Directories;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;

/**
 * {@code tollgate check}: reads and validates the config the way {@code run} does ({@link ConfigLoader}, the same
 * defaults), prints the effective config as JSON with secrets masked and exits 0. A bad config is a
 * {@link dev.tollgate.daemon.config.ConfigException}, which {@link Main} prints as one line and turns into exit 2.
 * It binds nothing, opens no database and creates no state directory: nothing here starts the {@link Daemon}.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Validate the config as run would, print the effective config as JSON (secrets masked)"
                + " and exit 0; on an error print the reason and exit 2.",
                "Binds no port, opens no database and creates no state directory."})
public final class CheckCommand implements Callable<Integer> {

    public static final String MASK = "********";

    /** Keys whose value is a secret: store.password, and any later key ending in password, secret or token. */
    private static final Pattern SECRET_KEY = Pattern.compile("(?i).*(password|secret|token)");
    /** A password inside a JDBC URL ({@code ;PASSWORD=x} for H2, {@code ?password=x} elsewhere). */
    private static final Pattern SECRET_IN_URL = Pattern.compile("(?i)(password=)[^;&]*");

    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "tollgate.json to check; without it the embedded defaults are printed.")
    private Path configFile;

    @Override
    public Integer call() throws Exception {
        TollgateConfig config = ConfigLoader.loadOrDefaults(configFile);
        ListenerFiles.check(config, configFile);
        checkStateDirectory(config);
        System.out.println(JSON.writeValueAsString(masked(JSON.valueToTree(config))));
        return Main.EXIT_OK;
    }

    /** An existing state directory that other accounts may write is refused here as {@code run} would refuse it. */
    private void checkStateDirectory(TollgateConfig config) {
        if (!Files.isDirectory(config.stateDirPath())) {
            return; // run makes it, owner-only
        }
        try {
            Directories.requireClosedToOthers(config.stateDirPath(), "stateDir");
        } catch (IOException e) {
            throw ConfigException.in(configFile, e.getMessage());
        }
    }

    /**
     * The config tree with every secret replaced by {@link #MASK}: keys named like one, passwords in URLs, and every
     * value of a sink's {@code headers}. An empty secret stays empty (none is set).
     */
    static JsonNode masked(JsonNode node) {
        if (node instanceof ObjectNode object) {
            Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                JsonNode value = field.getValue();
                if (field.getKey().equals("headers") && value instanceof ObjectNode headers) {
                    // An otlp sink's request headers: any of them may be a collector's API key, whatever its name.
                    headers.fields().forEachRemaining(header -> header.setValue(TextNode.valueOf(MASK)));
                } else if (SECRET_KEY.matcher(field.getKey()).matches() && value.isTextual()) {
                    field.setValue(value.asText().isEmpty() ? value : TextNode.valueOf(MASK));
                } else {
                    field.setValue(masked(value));
                }
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                array.set(i, masked(array.get(i)));
            }
        } else if (node.isTextual()) {
            return TextNode.valueOf(SECRET_IN_URL.matcher(node.asText()).replaceAll("$1" + MASK));
        }
        return node;
    }
}
