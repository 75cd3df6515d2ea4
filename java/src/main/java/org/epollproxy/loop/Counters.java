package org.epollproxy.loop;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;

/**
 * A set of monotonic counters kept as public {@code long} (and {@code long[]}) fields, written by one
 * loop's thread only. The fields are the one definition: {@link #add} and {@link #copy} find them by
 * reflection (once per class), so a counter added later is summed and copied like the others instead of
 * silently reading 0 in a snapshot.
 */
public abstract class Counters<T extends Counters<T>> {
    private static final ClassValue<Field[]> FIELDS = new ClassValue<>() {
        @Override
        protected Field[] computeValue(Class<?> type) {
            List<Field> out = new ArrayList<>();
            for (Field f : type.getFields()) {
                if (Modifier.isStatic(f.getModifiers())) continue;
                if (f.getType() == long.class || f.getType() == long[].class) out.add(f);
            }
            return out.toArray(new Field[0]);
        }
    };

    /** A new, zeroed instance of the same kind. */
    protected abstract T blank();

    /** Adds every counter of {@code o} into this one (for a total over loops). */
    public final void add(T o) {
        try {
            for (Field f : FIELDS.get(getClass())) {
                if (f.getType() == long.class) {
                    f.setLong(this, f.getLong(this) + f.getLong(o));
                } else {
                    long[] mine = (long[]) f.get(this);
                    long[] theirs = (long[]) f.get(o);
                    for (int i = 0; i < mine.length; i++) mine[i] += theirs[i];
                }
            }
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("counters must be public fields", e);
        }
    }

    /** A copy of every counter, for a snapshot taken on the owning loop's thread. */
    public final T copy() {
        T c = blank();
        c.add(self());
        return c;
    }

    @SuppressWarnings("unchecked")
    private T self() {
        return (T) this;
    }
}
