package dev.tollgate.daemon.config;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Reads tollgate.json (JSON with comments) into a validated {@link TollgateConfig}. Every failure becomes a
 * {@link ConfigException} whose one-line message names the file, the key, the value and the limit.
 */
public final class ConfigLoader {

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS)
            .enable(JsonReadFeature.ALLOW_YAML_COMMENTS)
            .enable(JsonReadFeature.ALLOW_TRAILING_COMMA)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            // 3128.9 is not a port: refuse it rather than silently truncating it to 3128.
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** Jackson's "(token `JsonToken.START_OBJECT`)": what the file had where another type was expected. */
    private static final Pattern FOUND_TOKEN = Pattern.compile("token `JsonToken\\.([A-Z_]+)`");

    private ConfigLoader() {
    }

    /**
     * The config every command works from: {@code file} read and validated as {@link #load} does, or the
     * embedded defaults when there is none (no {@code --config}). One place, so that {@code tollgate check}
     * cannot judge a file differently from {@code run} and {@code sql}.
     */
    public static TollgateConfig loadOrDefaults(Path file) {
        return file == null ? TollgateConfig.defaults() : load(file);
    }

    /** Reads and validates the file; throws {@link ConfigException} with a one-line reason when it cannot. */
    public static TollgateConfig load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot be read (" + e.getMessage() + ")", e);
        }
        return parse(file.toString(), text);
    }

    /** Parses config text; {@code source} names it in error messages. */
    public static TollgateConfig parse(String source, String text) {
        if (text.isBlank()) {
            throw new ConfigException(source + ": is empty (write {} for all defaults)");
        }
        TollgateConfig config = translate(source, () -> MAPPER.readValue(text, TollgateConfig.class));
        if (config == null) {
            throw new ConfigException(source + ": must be a JSON object, not null");
        }
        return config;
    }

    /**
     * Reads one listener object (as the admin API receives it) with the same validation and messages as a
     * listener in tollgate.json; {@code source} names it in error messages.
     */
    public static ListenerConfig parseListener(String source, JsonNode listener) {
        ListenerConfig config = translate(source, () -> MAPPER.treeToValue(listener, ListenerConfig.class));
        if (config == null) {
            throw new ConfigException(source + ": must be a JSON object, not null");
        }
        return config;
    }

    @FunctionalInterface
    private interface JsonRead<T> {
        T read() throws IOException;
    }

    /** Runs a Jackson read and turns each way it can fail into a one-line {@link ConfigException}. */
    private static <T> T translate(String source, JsonRead<T> read) {
        try {
            return read.read();
        } catch (UnrecognizedPropertyException e) {
            String known = e.getKnownPropertyIds().stream().map(Object::toString).sorted()
                    .collect(Collectors.joining(", "));
            throw new ConfigException(source + ": unknown key \"" + pathOf(e) + "\" (known keys here: "
                    + known + ")", e);
        } catch (ValueInstantiationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            String where = pathOf(e);
            String prefix = where.isEmpty() ? "" : where + ".";
            throw new ConfigException(source + ": " + prefix + cause.getMessage(), e);
        } catch (InvalidFormatException e) {
            throw new ConfigException(source + ": " + pathOf(e) + ": " + describe(e.getValue())
                    + " is not a valid " + typeName(e.getTargetType()), e);
        } catch (MismatchedInputException e) {
            if (String.valueOf(e.getOriginalMessage()).startsWith("Trailing token")) {
                throw invalidJson(source, e.getLocation(), "more text after the end of the top-level object", e);
            }
            String where = pathOf(e);
            String expected = e.getTargetType() == null ? "value" : typeName(e.getTargetType());
            String found = foundToken(e);
            throw new ConfigException(source + ": " + (where.isEmpty() ? "the top level" : where)
                    + ": wrong type, expected " + article(expected)
                    + (found != null ? ", found " + found : " (" + firstLine(e.getOriginalMessage()) + ")"), e);
        } catch (JsonParseException e) {
            throw invalidJson(source, e.getLocation(), e.getOriginalMessage(), e);
        } catch (JsonMappingException e) {
            // A number too big for its key, or a syntax error inside a list or object, arrives wrapped with the
            // path it was found at.
            if (e.getCause() instanceof InputCoercionException tooBig) {
                throw new ConfigException(source + ": " + pathOf(e) + ": " + firstLine(tooBig.getOriginalMessage()),
                        e);
            }
            if (e.getCause() instanceof StreamReadException syntax) {
                throw invalidJson(source, syntax.getLocation(), syntax.getOriginalMessage(), e);
            }
            throw new ConfigException(source + ": " + pathOf(e) + ": " + firstLine(e.getOriginalMessage()), e);
        } catch (IOException e) {
            throw new ConfigException(source + ": cannot be read (" + e.getMessage() + ")", e);
        }
    }

    private static ConfigException invalidJson(String source, JsonLocation at, String message, Exception e) {
        String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
        // Jackson names the place of an opening bracket as "[Source: ...; line: 1, column: 15]": keep the place.
        String reason = firstLine(message).replaceAll("\\[Source: [^;]*; line: (\\d+), column: (\\d+)]",
                "line $1, column $2");
        return new ConfigException(source + ": invalid JSON" + where + ": " + reason, e);
    }

    /** What the file has where another type was expected, e.g. "an object {...}", or null when unknown. */
    private static String foundToken(MismatchedInputException e) {
        Matcher token = FOUND_TOKEN.matcher(String.valueOf(e.getOriginalMessage()));
        if (!token.find()) {
            return null;
        }
        return switch (token.group(1)) {
            case "START_OBJECT", "END_OBJECT", "FIELD_NAME" -> "an object {...}";
            case "START_ARRAY", "END_ARRAY" -> "a list [...]";
            case "VALUE_STRING" -> "a string";
            case "VALUE_NUMBER_INT", "VALUE_NUMBER_FLOAT" -> "a number";
            case "VALUE_TRUE", "VALUE_FALSE" -> "a boolean";
            case "VALUE_NULL" -> "null";
            default -> null;
        };
    }

    /** The JSON path of the failure, e.g. {@code listeners[0].port}. */
    private static String pathOf(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (path.length() > 0) {
                    path.append('.');
                }
                path.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    private static String typeName(Class<?> type) {
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "whole number";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "boolean (true or false)";
        }
        if (type == String.class) {
            return "string";
        }
        if (java.util.List.class.isAssignableFrom(type)) {
            return "list [...]";
        }
        return "object {...}";
    }

    private static String article(String noun) {
        return (noun.startsWith("object") ? "an " : "a ") + noun;
    }

    private static String describe(Object value) {
        return value instanceof String ? "\"" + value + "\"" : String.valueOf(value);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
