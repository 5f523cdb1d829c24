package io.entrollm.quant;

/**
 * How many weights share one scale (and zero): the whole tensor, one output row ("channel"), or
 * {@code groupSize} consecutive weights of a row.
 */
public record Granularity(Kind kind, int groupSize) {
    public enum Kind { TENSOR, CHANNEL, GROUP }

    public static final Granularity TENSOR = new Granularity(Kind.TENSOR, 0);
    public static final Granularity CHANNEL = new Granularity(Kind.CHANNEL, 0);

    public Granularity {
        if (kind == Kind.GROUP && groupSize <= 0) throw new IllegalArgumentException("group size must be positive");
        if (kind != Kind.GROUP) groupSize = 0;
    }

    public static Granularity group(int size) { return new Granularity(Kind.GROUP, size); }

    /** Parses {@code tensor}, {@code channel} or {@code group:G}. */
    public static Granularity parse(String s) {
        String t = s.trim().toLowerCase(java.util.Locale.ROOT);
        if (t.equals("tensor")) return TENSOR;
        if (t.equals("channel")) return CHANNEL;
        if (t.startsWith("group:")) {
            try {
                return group(Integer.parseInt(t.substring(6)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad group size in '" + s + "'");
            }
        }
        throw new IllegalArgumentException("unknown granularity '" + s + "' (tensor, channel, group:G)");
    }

    /**
     * Weights per scale for a tensor of {@code rows} x {@code rowLength}.
     *
     * @throws IllegalArgumentException if the group size does not divide the row length
     */
    public long weightsPerGroup(long rows, long rowLength, String tensorName) {
        return switch (kind) {
            case TENSOR -> rows * rowLength;
            case CHANNEL -> rowLength;
            case GROUP -> {
                if (rowLength % groupSize != 0) {
                    throw new IllegalArgumentException("tensor '" + tensorName + "': group size " + groupSize
                            + " does not divide the row length " + rowLength);
                }
                yield groupSize;
            }
        };
    }

    @Override
    public String toString() { return kind == Kind.GROUP ? "group:" + groupSize : kind.name().toLowerCase(java.util.Locale.ROOT); }
}
