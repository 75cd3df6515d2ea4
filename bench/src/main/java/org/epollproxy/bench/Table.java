package org.epollproxy.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** A markdown table built row by row, and the number formats the result tables share. */
final class Table {
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
        rows.add(header);
    }

    void row(String... cells) {
        rows.add(cells);
    }

    void print(PrintStream out) {
        for (int r = 0; r < rows.size(); r++) {
            out.println("| " + String.join(" | ", rows.get(r)) + " |");
            if (r == 0) {
                StringBuilder sep = new StringBuilder("|");
                for (int c = 0; c < rows.get(0).length; c++) sep.append(c == 0 ? "---|" : "--:|");
                out.println(sep);
            }
        }
    }

    /** A figure with 3 significant digits at most, thousands grouped: 1,234,567 / 123 / 12.3 / 1.23. */
    static String num(double v) {
        if (Double.isNaN(v)) return "-";
        double a = Math.abs(v);
        if (a >= 100 || v == Math.rint(v)) return String.format(Locale.ROOT, "%,.0f", v);
        if (a >= 10) return String.format(Locale.ROOT, "%.1f", v);
        return String.format(Locale.ROOT, "%.2f", v);
    }

    /** "1.23x" or "-" when either side is missing. */
    static String ratio(double v, double base) {
        if (Double.isNaN(v) || Double.isNaN(base) || base == 0) return "-";
        return String.format(Locale.ROOT, "%.2fx", v / base);
    }

    static double parse(String s) {
        try {
            return Double.parseDouble(s);
        } catch (RuntimeException e) {
            return Double.NaN;
        }
    }

    static List<String> lines(String file) throws IOException {
        return Files.readAllLines(Path.of(file));
    }
}
