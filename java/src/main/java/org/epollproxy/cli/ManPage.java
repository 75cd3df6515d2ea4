package org.epollproxy.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * epoll-proxy(1) and the shell completions, made from the same picocli model and the same words as
 * {@code --help} ({@link HelpText}, {@link HelpLayout#groups}), so the three cannot drift apart. The build
 * runs {@link #main} after packaging (java/pom.xml) to write them into java/target:
 *
 * <pre>
 *   java -cp epoll-proxy.jar org.epollproxy.cli.ManPage MAN_FILE BASH_FILE ZSH_FILE
 * </pre>
 */
public final class ManPage {
    static final String NAME_LINE = "epoll-proxy \\- a TCP and UDP port forwarder on the Linux epoll API";

    private ManPage() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: ManPage MAN_FILE BASH_COMPLETION_FILE ZSH_COMPLETION_FILE");
            System.exit(2);
        }
        CommandLine cl = command();
        write(Path.of(args[0]), troff(cl.getCommandSpec(), version()));
        write(Path.of(args[1]), bash(cl));
        write(Path.of(args[2]), zsh(cl));
    }

    /** The command line as {@code --help} sees it. */
    static CommandLine command() {
        CommandLine cl = new CommandLine(new Main(new PrintStream(PrintStream.nullOutputStream()), System.err));
        HelpLayout.install(cl);
        return cl;
    }

    static String version() {
        String v = Main.class.getPackage().getImplementationVersion();
        return v == null ? "development build" : v;
    }

    private static void write(Path file, String text) throws IOException {
        if (file.getParent() != null) Files.createDirectories(file.getParent());
        Files.writeString(file, text, StandardCharsets.UTF_8);
    }

    /** picocli's completion script for bash. */
    static String bash(CommandLine cl) {
        return AutoComplete.bash("epoll-proxy", cl);
    }

    /** The same script for zsh, through zsh's bash completion emulation (as picocli documents it). */
    static String zsh(CommandLine cl) {
        return "#compdef epoll-proxy\n"
                + "# zsh runs picocli's bash completion script through bashcompinit.\n"
                + "autoload -U +X bashcompinit && bashcompinit\n"
                + bash(cl);
    }

    /** The man page in troff (man macros), readable with {@code man -l}. */
    static String troff(CommandSpec spec, String version) {
        StringBuilder m = new StringBuilder();
        m.append(".TH EPOLL\\-PROXY 1 \"\" \"epoll-proxy ").append(escape(version)).append("\" \"User Commands\"\n");
        m.append(".SH NAME\n").append(NAME_LINE).append('\n');
        m.append(".SH SYNOPSIS\n.nf\n");
        int i = 0;
        for (; i < HelpText.SYNOPSIS.length && !HelpText.SYNOPSIS[i].isEmpty(); i++) {
            m.append(line(HelpText.SYNOPSIS[i].replaceFirst("^Usage: ", "").replaceFirst("^       ", ""))).append('\n');
        }
        m.append(".fi\n.SH DESCRIPTION\n");
        paragraphs(m, HelpText.DESCRIPTION);
        paragraphs(m, java.util.Arrays.copyOfRange(HelpText.SYNOPSIS, i, HelpText.SYNOPSIS.length));
        m.append(".SH OPTIONS\n");
        for (Map.Entry<String, List<OptionSpec>> g : HelpLayout.groups(spec).entrySet()) {
            m.append(".SS ").append(escape(g.getKey())).append('\n');
            for (OptionSpec o : g.getValue()) {
                m.append(".TP\n").append(optionLine(o)).append('\n');
                m.append(line(String.join(" ", o.description()))).append('\n');
            }
        }
        for (String[] section : HelpText.FOOTER_SECTIONS) {
            String title = section[0].replaceFirst("[ (:].*$", "").toUpperCase(Locale.ROOT);
            if (section[0].startsWith("Exit status")) title = "EXIT STATUS";
            if (section[0].startsWith("Endpoints")) title = "ENDPOINTS";
            m.append(".SH ").append(title).append('\n');
            if (!section[0].endsWith(":") || section[0].contains("(")) m.append(line(section[0])).append('\n');
            m.append(".nf\n");
            for (int k = 1; k < section.length; k++) m.append(line(section[k].replaceFirst("^  ", ""))).append('\n');
            m.append(".fi\n");
        }
        m.append(".SH SEE ALSO\n").append("socat(1), rinetd(8), haproxy(1), epoll(7), splice(2)\n");
        return m.toString();
    }

    /** "\fB\-c\fR, \fB\-\-config\fR \fIFILE\fR". */
    static String optionLine(OptionSpec o) {
        StringBuilder s = new StringBuilder();
        for (String name : o.names()) {
            if (s.length() > 0) s.append(", ");
            s.append("\\fB").append(escape(name)).append("\\fR");
        }
        if (o.arity().max() > 0) s.append(" \\fI").append(escape(o.paramLabel())).append("\\fR");
        return s.toString();
    }

    private static void paragraphs(StringBuilder m, String[] lines) {
        StringBuilder p = new StringBuilder();
        for (String l : lines) {
            if (l.isEmpty()) {
                if (p.length() > 0) m.append(line(p.toString().trim())).append("\n.PP\n");
                p.setLength(0);
            } else {
                p.append(l).append(' ');
            }
        }
        if (p.length() > 0) m.append(line(p.toString().trim())).append("\n.PP\n");
    }

    /** A text line: escaped, and never starting with a control character ('.' or '\''). */
    static String line(String text) {
        String e = escape(text);
        return e.startsWith(".") || e.startsWith("'") ? "\\&" + e : e;
    }

    /** troff's escapes: a backslash is \e, a minus (options) \-. */
    static String escape(String text) {
        return text.replace("\\", "\\e").replace("-", "\\-");
    }
}
