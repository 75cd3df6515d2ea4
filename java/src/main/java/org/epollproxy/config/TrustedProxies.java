package org.epollproxy.config;

/**
 * The entries of {@code --accept-proxy-from} and of the config option {@code accept-proxy-from=}: a CIDR
 * block ({@code 10.0.0.0/8}, {@code 2001:db8::/32}) or a single numeric address, which stands for its /32 or
 * /128. No globs and no host names: who may announce a client's address is not a pattern to guess at.
 */
public final class TrustedProxies {

    /** {@code entry} as a CIDR block, or a {@link SpecException} naming what is wrong with it. */
    public static String cidr(String entry, int column, int line) throws SpecException {
        String e = entry.strip();
        if (e.isEmpty()) throw new SpecException("empty address (expected a CIDR block such as 10.0.0.0/8, or an address)", column, line);
        if (e.indexOf('*') >= 0 || e.indexOf('?') >= 0) {
            throw new SpecException("\"" + e + "\": expected a CIDR block such as 10.0.0.0/8, or an address (no * or ?)", column, line);
        }
        if (e.indexOf('/') < 0) {
            if (e.matches("\\d{1,3}(\\.\\d{1,3}){3}")) e = e + "/32";
            else if (e.indexOf(':') >= 0) e = e + "/128";
            else throw new SpecException("\"" + e + "\": expected a CIDR block such as 10.0.0.0/8, or a numeric address", column, line);
        }
        return AccessPattern.check(e, column, line);
    }

    private TrustedProxies() {}
}
