package org.epollproxy.forward;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A strict parser of the Prometheus text exposition format 0.0.4, written for the tests: it rejects
 * what a scraper would reject (bad names, bad escapes, unparsable values, a TYPE after its samples, a
 * family split in two, a duplicate series, a missing final newline) and returns the families.
 */
final class PrometheusParser {
    record Sample(String name, Map<String, String> labels, double value) {}

    static final class Family {
        final String name;
        String type;
        String help;
        final List<Sample> samples = new ArrayList<>();

        Family(String name) {
            this.name = name;
        }

        /** The value of the one sample whose labels include all of {@code want} (name, value pairs). */
        double value(String... want) {
            Sample found = null;
            for (Sample s : samples) {
                boolean match = true;
                for (int i = 0; i < want.length; i += 2) match &= want[i + 1].equals(s.labels().get(want[i]));
                if (match) {
                    if (found != null) throw new AssertionError("several samples of " + name + " match " + List.of(want));
                    found = s;
                }
            }
            if (found == null) throw new AssertionError("no sample of " + name + " with " + List.of(want) + " in " + samples);
            return found.value();
        }

        /** The sum of the samples whose labels include all of {@code want}. */
        double sum(String... want) {
            double total = 0;
            for (Sample s : samples) {
                boolean match = true;
                for (int i = 0; i < want.length; i += 2) match &= want[i + 1].equals(s.labels().get(want[i]));
                if (match) total += s.value();
            }
            return total;
        }
    }

    static final class ParseException extends Exception {
        ParseException(int line, String msg) {
            super("line " + line + ": " + msg);
        }
    }

    private static final Pattern METRIC = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern FLOAT = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?|[+-]?Inf|NaN");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    private final Map<String, Family> families = new LinkedHashMap<>();
    private final Set<String> series = new HashSet<>();
    private final Set<String> closed = new HashSet<>();
    private String open;
    private int lineNo;

    static Map<String, Family> parse(String text) throws ParseException {
        PrometheusParser p = new PrometheusParser();
        if (!text.isEmpty() && !text.endsWith("\n")) throw new ParseException(0, "the last line has no newline");
        for (String line : text.split("\n", -1)) {
            p.lineNo++;
            p.line(line);
        }
        return p.families;
    }

    private void line(String line) throws ParseException {
        if (line.isEmpty()) return;
        if (line.startsWith("#")) {
            String[] parts = line.split(" ", 4);
            if (parts.length >= 3 && (parts[1].equals("HELP") || parts[1].equals("TYPE"))) meta(parts);
            return; // any other comment
        }
        sample(line);
    }

    private void meta(String[] parts) throws ParseException {
        String name = parts[2];
        if (!METRIC.matcher(name).matches()) throw new ParseException(lineNo, "bad metric name " + name);
        Family f = enter(name);
        if (parts[1].equals("HELP")) {
            if (f.help != null) throw new ParseException(lineNo, "second HELP for " + name);
            String help = parts.length > 3 ? parts[3] : "";
            if (help.replace("\\\\", "").replace("\\n", "").contains("\\")) throw new ParseException(lineNo, "bad escape in HELP");
            f.help = help;
        } else {
            if (f.type != null) throw new ParseException(lineNo, "second TYPE for " + name);
            if (!f.samples.isEmpty()) throw new ParseException(lineNo, "TYPE after samples of " + name);
            if (parts.length != 4 || !TYPES.contains(parts[3])) throw new ParseException(lineNo, "bad TYPE line");
            f.type = parts[3];
        }
    }

    /** The family {@code name}, which becomes the open one; a family closed earlier cannot reopen. */
    private Family enter(String name) throws ParseException {
        if (!name.equals(open)) {
            if (closed.contains(name)) throw new ParseException(lineNo, "family " + name + " is split in two");
            if (open != null) closed.add(open);
            open = name;
        }
        return families.computeIfAbsent(name, Family::new);
    }

    private void sample(String line) throws ParseException {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && line.charAt(i) != ' ') i++;
        String name = line.substring(0, i);
        if (!METRIC.matcher(name).matches()) throw new ParseException(lineNo, "bad metric name " + name);
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') i = labels(line, i + 1, labels);
        if (i >= line.length() || line.charAt(i) != ' ') throw new ParseException(lineNo, "no space before the value");
        String[] rest = line.substring(i + 1).split(" ", -1);
        if (rest.length > 2) throw new ParseException(lineNo, "trailing text");
        if (!FLOAT.matcher(rest[0]).matches()) throw new ParseException(lineNo, "bad value " + rest[0]);
        if (rest.length == 2 && !rest[1].matches("-?\\d+")) throw new ParseException(lineNo, "bad timestamp " + rest[1]);
        double v = rest[0].endsWith("Inf") ? (rest[0].startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY)
                : Double.parseDouble(rest[0]);
        Family f = enter(name);
        if (f.type == null) throw new ParseException(lineNo, "sample of " + name + " before its TYPE");
        if (!series.add(name + labels)) throw new ParseException(lineNo, "duplicate series " + name + labels);
        f.samples.add(new Sample(name, labels, v));
    }

    /** Parses {@code name="value",...}} from {@code i}; returns the index after '}'. */
    private int labels(String line, int i, Map<String, String> labels) throws ParseException {
        while (true) {
            if (i < line.length() && line.charAt(i) == '}') return i + 1;
            int eq = line.indexOf('=', i);
            if (eq < 0) throw new ParseException(lineNo, "label without '='");
            String label = line.substring(i, eq);
            if (!LABEL.matcher(label).matches() || label.startsWith("__")) throw new ParseException(lineNo, "bad label name " + label);
            if (eq + 1 >= line.length() || line.charAt(eq + 1) != '"') throw new ParseException(lineNo, "label value not quoted");
            StringBuilder v = new StringBuilder();
            int j = eq + 2;
            while (true) {
                if (j >= line.length()) throw new ParseException(lineNo, "unterminated label value");
                char c = line.charAt(j++);
                if (c == '"') break;
                if (c == '\\') {
                    if (j >= line.length()) throw new ParseException(lineNo, "dangling backslash");
                    char e = line.charAt(j++);
                    if (e == 'n') v.append('\n');
                    else if (e == '\\' || e == '"') v.append(e);
                    else throw new ParseException(lineNo, "bad escape \\" + e);
                } else {
                    v.append(c);
                }
            }
            if (labels.put(label, v.toString()) != null) throw new ParseException(lineNo, "label " + label + " twice");
            i = j;
            if (i < line.length() && line.charAt(i) == ',') i++;
            else if (i >= line.length() || line.charAt(i) != '}') throw new ParseException(lineNo, "expected ',' or '}'");
        }
    }
}
