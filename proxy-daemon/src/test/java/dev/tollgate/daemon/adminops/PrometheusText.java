package dev.tollgate.daemon.adminops;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for checking what {@code GET /metrics}
 * writes: {@code # HELP name text}, {@code # TYPE name type}, other comments, and samples
 * {@code name{label="value",...} value [timestamp]}. Every line must parse; every sample must belong to a
 * family whose TYPE came before it; a family has at most one HELP and one TYPE; no series appears twice.
 * Anything else fails the test, naming the line.
 */
final class PrometheusText {

    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    /** A metric family: its name as in its TYPE line, its type and its help text (null without HELP). */
    record Family(String name, String type, String help) {
    }

    /** One sample line. */
    record Sample(String name, Map<String, String> labels, double value, Family family) {

        /** Whether every label in {@code wanted} has the given value on this sample. */
        boolean has(Map<String, String> wanted) {
            return wanted.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
        }
    }

    private final Map<String, Family> families = new LinkedHashMap<>();
    private final List<Sample> samples = new ArrayList<>();

    private PrometheusText() {
    }

    /** Parses and checks a whole scrape; fails the test at the first line that breaks the format. */
    static PrometheusText parse(String text) {
        if (!text.endsWith("\n")) {
            throw new AssertionError("the exposition must end with a line feed");
        }
        PrometheusText scrape = new PrometheusText();
        Map<String, String> helps = new LinkedHashMap<>();
        Set<String> series = new java.util.HashSet<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length - 1; i++) {
            String line = lines[i];
            int number = i + 1;
            try {
                if (line.isEmpty()) {
                    continue;
                }
                if (line.startsWith("# HELP ")) {
                    String rest = line.substring("# HELP ".length());
                    int space = rest.indexOf(' ');
                    String name = space < 0 ? rest : rest.substring(0, space);
                    checkName(name);
                    if (helps.put(name, space < 0 ? "" : unescapeHelp(rest.substring(space + 1))) != null) {
                        throw new IllegalArgumentException("a second HELP for " + name);
                    }
                } else if (line.startsWith("# TYPE ")) {
                    String[] parts = line.substring("# TYPE ".length()).split(" ");
                    if (parts.length != 2 || !TYPES.contains(parts[1])) {
                        throw new IllegalArgumentException("a TYPE line needs a name and one of " + TYPES);
                    }
                    checkName(parts[0]);
                    if (scrape.families.containsKey(parts[0])) {
                        throw new IllegalArgumentException("a second TYPE for " + parts[0]);
                    }
                    scrape.families.put(parts[0], new Family(parts[0], parts[1], null));
                } else if (line.startsWith("#")) {
                    continue;
                } else {
                    Sample sample = scrape.sample(line);
                    if (!series.add(sample.name() + sample.labels())) {
                        throw new IllegalArgumentException("the series appears twice");
                    }
                    scrape.samples.add(sample);
                }
            } catch (RuntimeException e) {
                throw new AssertionError("/metrics line " + number + " does not parse (" + e.getMessage() + "): "
                        + line, e);
            }
        }
        // Attach each HELP to its family now that all are known.
        scrape.families.replaceAll((name, family) -> new Family(name, family.type(), helps.get(name)));
        for (String name : helps.keySet()) {
            if (!scrape.families.containsKey(name)) {
                throw new AssertionError("HELP for " + name + " has no TYPE");
            }
        }
        scrape.samples.replaceAll(s -> new Sample(s.name(), s.labels(), s.value(), scrape.families.get(
                s.family().name())));
        return scrape;
    }

    Family family(String name) {
        return families.get(name);
    }

    Map<String, Family> families() {
        return families;
    }

    /** The samples named {@code name} exactly. */
    List<Sample> samples(String name) {
        return samples.stream().filter(s -> s.name().equals(name)).toList();
    }

    /** The sum of the samples named {@code name} that have every label in {@code labels}. */
    double sum(String name, Map<String, String> labels) {
        return samples(name).stream().filter(s -> s.has(labels)).mapToDouble(Sample::value).sum();
    }

    /** The samples named {@code name} that match {@code filter}. */
    List<Sample> samples(String name, Predicate<Sample> filter) {
        return samples(name).stream().filter(filter).toList();
    }

    private Sample sample(String line) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') {
            i++;
        }
        String name = line.substring(0, i);
        checkName(name);
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i = labels(line, i + 1, labels);
        }
        if (i >= line.length() || line.charAt(i) != ' ') {
            throw new IllegalArgumentException("no space before the value");
        }
        String[] rest = line.substring(i + 1).split(" ");
        if (rest.length < 1 || rest.length > 2) {
            throw new IllegalArgumentException("a value and at most a timestamp may follow the labels");
        }
        double value = value(rest[0]);
        if (rest.length == 2) {
            Long.parseLong(rest[1]);
        }
        Family family = familyOf(name);
        if (family == null) {
            throw new IllegalArgumentException("no TYPE line before the first sample of " + name);
        }
        if (family.type().equals("histogram") && name.endsWith("_bucket") && !labels.containsKey("le")) {
            throw new IllegalArgumentException("a histogram bucket without le");
        }
        return new Sample(name, Map.copyOf(labels), value, family);
    }

    /** The family a sample name belongs to: its own name, or that name without the suffix its type adds. */
    private Family familyOf(String sampleName) {
        Family exact = families.get(sampleName);
        if (exact != null) {
            return exact;
        }
        for (String suffix : List.of("_total", "_created", "_bucket", "_count", "_sum")) {
            if (sampleName.endsWith(suffix)) {
                Family base = families.get(sampleName.substring(0, sampleName.length() - suffix.length()));
                if (base != null && suffixFits(base.type(), suffix)) {
                    return base;
                }
            }
        }
        return null;
    }

    private static boolean suffixFits(String type, String suffix) {
        return switch (type) {
            case "counter" -> suffix.equals("_total") || suffix.equals("_created");
            case "histogram" -> !suffix.equals("_total");
            case "summary" -> suffix.equals("_count") || suffix.equals("_sum") || suffix.equals("_created");
            default -> false;
        };
    }

    /** Reads labels from just after '{' to just after '}'; returns the index after '}'. */
    private static int labels(String line, int start, Map<String, String> labels) {
        int i = start;
        while (true) {
            if (i >= line.length()) {
                throw new IllegalArgumentException("labels not closed");
            }
            if (line.charAt(i) == '}') {
                return i + 1;
            }
            int equals = line.indexOf('=', i);
            if (equals < 0) {
                throw new IllegalArgumentException("a label without '='");
            }
            String name = line.substring(i, equals);
            if (!LABEL_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("bad label name \"" + name + "\"");
            }
            if (equals + 1 >= line.length() || line.charAt(equals + 1) != '"') {
                throw new IllegalArgumentException("label " + name + ": value not quoted");
            }
            StringBuilder value = new StringBuilder();
            i = equals + 2;
            while (true) {
                if (i >= line.length()) {
                    throw new IllegalArgumentException("label " + name + ": value not closed");
                }
                char c = line.charAt(i++);
                if (c == '"') {
                    break;
                }
                if (c == '\\') {
                    char escaped = line.charAt(i++);
                    switch (escaped) {
                        case '\\' -> value.append('\\');
                        case '"' -> value.append('"');
                        case 'n' -> value.append('\n');
                        default -> throw new IllegalArgumentException("label " + name + ": bad escape \\" + escaped);
                    }
                } else {
                    value.append(c);
                }
            }
            if (labels.put(name, value.toString()) != null) {
                throw new IllegalArgumentException("label " + name + " twice");
            }
            if (i < line.length() && line.charAt(i) == ',') {
                i++;
            } else if (i < line.length() && line.charAt(i) != '}') {
                throw new IllegalArgumentException("labels must be separated by ','");
            }
        }
    }

    private static double value(String text) {
        return switch (text) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> {
                if (!text.matches("[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]+)?")) {
                    throw new IllegalArgumentException("\"" + text + "\" is not a number");
                }
                yield Double.parseDouble(text);
            }
        };
    }

    private static void checkName(String name) {
        if (!METRIC_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("\"" + name + "\" is not a metric name");
        }
    }

    private static String unescapeHelp(String text) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length()) {
                char escaped = text.charAt(++i);
                switch (escaped) {
                    case '\\' -> out.append('\\');
                    case 'n' -> out.append('\n');
                    default -> throw new IllegalArgumentException("HELP: bad escape \\" + escaped);
                }
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
