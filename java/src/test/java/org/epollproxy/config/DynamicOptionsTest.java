package org.epollproxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The config file's resolver, resolve_interval and slow_start lines, and their errors (file:line:column). */
class DynamicOptionsTest {

    @Test
    void theLinesParse() throws Exception {
        Config c = ConfigParser.parse("resolver 10.0.0.2:53\nresolve_interval 10s\nslow_start 500ms\n0 80 app.internal 8080\n", "f");
        assertEquals(new DynamicOptions("10.0.0.2:53", 10_000, 500), c.dynamic());
        assertEquals(DynamicOptions.NONE, ConfigParser.parse("0 80 10.0.0.1 8080\n", "f").dynamic());
    }

    @Test
    void badValuesNameTheLineAndTheColumn() {
        SpecException e = assertThrows(SpecException.class, () -> ConfigParser.parse("# x\nresolve_interval 500ms\n", "f"));
        assertEquals(2, e.line());
        assertEquals("resolve_interval 500ms: must be at least 1s", e.getMessage());
        e = assertThrows(SpecException.class, () -> ConfigParser.parse("slow_start soon\n", "f"));
        assertEquals("slow_start soon: \"soon\" is not a duration: digits and a unit, ms, s, m or h (500ms, 5s, 2m)", e.getMessage());
        e = assertThrows(SpecException.class, () -> ConfigParser.parse("resolver 10.0.0.2\nresolver 10.0.0.3\n", "f"));
        assertEquals("resolver is given twice", e.getMessage());
        e = assertThrows(SpecException.class, () -> ConfigParser.parse("resolver\n", "f"));
        assertEquals("expected \"resolver IP[:PORT]\"", e.getMessage());
    }
}
