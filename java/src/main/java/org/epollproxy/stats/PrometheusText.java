package org.epollproxy.stats;

import java.util.HashSet;
import java.util.Set;

/**
 * Writes the Prometheus text exposition format (version 0.0.4): for each metric family one
 * {@code # HELP} and one {@code # TYPE} line, then its samples, {@code name{label="value"} number}.
 * Label values are escaped as the format demands (backslash, double quote, newline).
 */
final class PrometheusText {
    private final StringBuilder out = new StringBuilder(4096);
    private final Set<String> families = new HashSet<>();
    private String current;

    /** Starts a family; {@code type} is counter or gauge. Counters are named {@code *_total}. */
    PrometheusText family(String name, String type, String help) {
        if (!families.add(name)) throw new IllegalStateException("metric family written twice: " + name);
        if (type.equals("counter") && !name.endsWith("_total")) throw new IllegalArgumentException(name + " is a counter without _total");
        current = name;
        out.append("# HELP ").append(name).append(' ').append(help.replace("\\", "\\\\").replace("\n", "\\n")).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    /** A sample of the current family; {@code labels} alternate name, value. */
    PrometheusText sample(double value, String... labels) {
        out.append(current);
        if (labels.length > 0) {
            out.append('{');
            for (int i = 0; i < labels.length; i += 2) {
                if (i > 0) out.append(',');
                out.append(labels[i]).append("=\"");
                escape(labels[i + 1]);
                out.append('"');
            }
            out.append('}');
        }
        out.append(' ');
        if (value == Math.rint(value) && Math.abs(value) < 1e15) out.append((long) value);
        else out.append(value);
        out.append('\n');
        return this;
    }

    private void escape(String v) {
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '\\') out.append("\\\\");
            else if (c == '"') out.append("\\\"");
            else if (c == '\n') out.append("\\n");
            else out.append(c);
        }
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
