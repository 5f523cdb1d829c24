package io.entrollm.format.gguf;

import java.util.List;

/**
 * One metadata value. Scalars are held as {@link Long} (every integer type; UINT64 with unsigned
 * meaning), {@link Double} (FLOAT32 and FLOAT64), {@link Boolean} or {@link String}; arrays as a
 * {@link List} of such values, all of {@code elementType} (nested arrays are lists of {@link GgufValue}).
 */
public record GgufValue(GgufValueType type, GgufValueType elementType, Object value) {

    public static GgufValue of(GgufValueType type, Object value) {
        if (type == GgufValueType.ARRAY) throw new IllegalArgumentException("use array() for arrays");
        return new GgufValue(type, null, value);
    }

    public static GgufValue string(String s) { return of(GgufValueType.STRING, s); }

    public static GgufValue u32(long v) { return of(GgufValueType.UINT32, v); }

    public static GgufValue f32(double v) { return of(GgufValueType.FLOAT32, v); }

    public static GgufValue bool(boolean v) { return of(GgufValueType.BOOL, v); }

    public static GgufValue array(GgufValueType elementType, List<?> values) {
        return new GgufValue(GgufValueType.ARRAY, elementType, List.copyOf(values));
    }

    /** An array over {@code values} as given, not copied (a view of the file's mapping). */
    static GgufValue arrayView(GgufValueType elementType, List<?> values) {
        return new GgufValue(GgufValueType.ARRAY, elementType, java.util.Collections.unmodifiableList(values));
    }

    public long asLong() {
        if (value instanceof Long l) return l;
        throw new IllegalStateException("not an integer: " + type);
    }

    public double asDouble() {
        if (value instanceof Double d) return d;
        if (value instanceof Long l) return l;
        throw new IllegalStateException("not a number: " + type);
    }

    public String asString() {
        if (value instanceof String s) return s;
        throw new IllegalStateException("not a string: " + type);
    }

    public boolean asBoolean() {
        if (value instanceof Boolean b) return b;
        throw new IllegalStateException("not a bool: " + type);
    }

    public List<?> asList() {
        if (value instanceof List<?> l) return l;
        throw new IllegalStateException("not an array: " + type);
    }

    /** Short human-readable form: arrays are summarised, long strings cut. */
    public String summary() {
        if (value instanceof List<?> l) {
            return l.size() <= 8 ? l.toString() : "[" + l.size() + " x " + elementType + "]";
        }
        String s = String.valueOf(value);
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }
}
