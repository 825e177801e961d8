package dev.tollgate.daemon.admin;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The expected shape of a JSON value in an admin API contract: its JSON type and, for objects, the exact set
 * of field names (none missing, none extra), checked recursively. A contract test states the shape of each
 * answer once and {@link #assertMatches} names the first place where the answer differs, as a JSON path.
 */
final class JsonShape {

    private enum Type {
        STRING, INSTANT, INTEGER, NUMBER, BOOLEAN, NULL, OBJECT, MAP, ARRAY
    }

    private final Type type;
    /** OBJECT: every field, exactly. */
    private final Map<String, JsonShape> fields;
    /** MAP and ARRAY: the shape of every value or element. */
    private final JsonShape element;
    /** MAP: the keys it may have (null: any); a key it must have is listed in {@link #requiredKeys}. */
    private final Set<String> allowedKeys;
    private final Set<String> requiredKeys;

    private JsonShape(Type type, Map<String, JsonShape> fields, JsonShape element, Set<String> allowedKeys,
                      Set<String> requiredKeys) {
        this.type = type;
        this.fields = fields;
        this.element = element;
        this.allowedKeys = allowedKeys;
        this.requiredKeys = requiredKeys;
    }

    private static JsonShape of(Type type) {
        return new JsonShape(type, null, null, null, Set.of());
    }

    static JsonShape string() {
        return of(Type.STRING);
    }

    /** A string holding an ISO-8601 instant such as {@code 2026-11-27T08:00:00.123Z}. */
    static JsonShape instant() {
        return of(Type.INSTANT);
    }

    /** A whole number (counts, ports, ids, milliseconds). */
    static JsonShape integer() {
        return of(Type.INTEGER);
    }

    static JsonShape number() {
        return of(Type.NUMBER);
    }

    static JsonShape bool() {
        return of(Type.BOOLEAN);
    }

    /** JSON null (a field that is present but has no value in the state the test set up). */
    static JsonShape nul() {
        return of(Type.NULL);
    }

    /** An object with exactly the fields given to {@link #field}, in any order. */
    static JsonShape object() {
        return new JsonShape(Type.OBJECT, new LinkedHashMap<>(), null, null, Set.of());
    }

    /** An object used as a map: any keys from {@code allowed} (null: any key), every value of {@code values}. */
    static JsonShape mapOf(JsonShape values, Set<String> allowed) {
        return new JsonShape(Type.MAP, null, values, allowed, Set.of());
    }

    /** An object used as a map that holds exactly the keys {@code keys}, every value of {@code values}. */
    static JsonShape mapWithKeys(JsonShape values, Set<String> keys) {
        return new JsonShape(Type.MAP, null, values, keys, Set.copyOf(keys));
    }

    static JsonShape arrayOf(JsonShape elements) {
        return new JsonShape(Type.ARRAY, null, elements, null, Set.of());
    }

    /** Adds a field to an {@link #object()} shape; returns this shape. */
    JsonShape field(String name, JsonShape shape) {
        if (type != Type.OBJECT) {
            throw new IllegalStateException("field() is for object shapes");
        }
        if (fields.put(name, shape) != null) {
            throw new IllegalStateException("field " + name + " given twice");
        }
        return this;
    }

    /** A copy of this object shape with field {@code name} replaced by {@code shape}. */
    JsonShape with(String name, JsonShape shape) {
        if (type != Type.OBJECT || !fields.containsKey(name)) {
            throw new IllegalStateException("with() replaces a field an object shape has: " + name);
        }
        Map<String, JsonShape> copy = new LinkedHashMap<>(fields);
        copy.put(name, shape);
        return new JsonShape(Type.OBJECT, copy, null, null, Set.of());
    }

    /** The field names of an object shape, in the order given. */
    List<String> fieldNames() {
        return List.copyOf(fields.keySet());
    }

    /** Fails with the JSON path of the first difference between {@code node} and this shape. */
    void assertMatches(JsonNode node) {
        assertMatches("$", node);
    }

    private void assertMatches(String path, JsonNode node) {
        if (node == null || node.isMissingNode()) {
            fail(path + ": missing");
        }
        switch (type) {
            case STRING -> expect(path, node, node.isTextual(), "a string");
            case INSTANT -> {
                expect(path, node, node.isTextual(), "an ISO-8601 instant string");
                try {
                    Instant.parse(node.textValue());
                } catch (DateTimeParseException e) {
                    fail(path + ": expected an ISO-8601 instant, got " + node);
                }
            }
            case INTEGER -> expect(path, node, node.isIntegralNumber(), "a whole number");
            case NUMBER -> expect(path, node, node.isNumber(), "a number");
            case BOOLEAN -> expect(path, node, node.isBoolean(), "a boolean");
            case NULL -> expect(path, node, node.isNull(), "null");
            case OBJECT -> {
                expect(path, node, node.isObject(), "an object");
                Set<String> have = names(node);
                if (!have.equals(fields.keySet())) {
                    Set<String> missing = new TreeSet<>(fields.keySet());
                    missing.removeAll(have);
                    Set<String> extra = new TreeSet<>(have);
                    extra.removeAll(fields.keySet());
                    fail(path + ": fields differ from the contract; missing " + missing + ", extra " + extra
                            + " in " + node);
                }
                fields.forEach((name, shape) -> shape.assertMatches(path + "." + name, node.get(name)));
            }
            case MAP -> {
                expect(path, node, node.isObject(), "an object");
                Set<String> have = names(node);
                if (allowedKeys != null && !allowedKeys.containsAll(have)) {
                    Set<String> extra = new TreeSet<>(have);
                    extra.removeAll(allowedKeys);
                    fail(path + ": keys " + extra + " are not among " + new TreeSet<>(allowedKeys) + " in " + node);
                }
                if (!have.containsAll(requiredKeys)) {
                    Set<String> missing = new TreeSet<>(requiredKeys);
                    missing.removeAll(have);
                    fail(path + ": keys " + missing + " are missing in " + node);
                }
                have.forEach(name -> element.assertMatches(path + "." + name, node.get(name)));
            }
            case ARRAY -> {
                expect(path, node, node.isArray(), "an array");
                for (int i = 0; i < node.size(); i++) {
                    element.assertMatches(path + "[" + i + "]", node.get(i));
                }
            }
            default -> throw new IllegalStateException(type.name());
        }
    }

    private static void expect(String path, JsonNode node, boolean ok, String what) {
        if (!ok) {
            fail(path + ": expected " + what + ", got " + node.getNodeType() + " " + node);
        }
    }

    private static Set<String> names(JsonNode node) {
        Set<String> names = new TreeSet<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }

    @Override
    public String toString() {
        return switch (type) {
            case OBJECT -> "object" + new ArrayList<>(fields.keySet());
            case MAP, ARRAY -> type.name().toLowerCase(Locale.ROOT) + " of " + element;
            default -> type.name().toLowerCase(Locale.ROOT);
        };
    }
}
