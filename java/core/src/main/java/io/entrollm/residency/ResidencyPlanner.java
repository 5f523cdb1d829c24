package io.entrollm.residency;

/**
 * Picks the fastest residency mode whose GPU memory need fits a budget (DECODED, then COMPRESSED,
 * then STREAMED), or says what the smallest mode would need.
 */
public final class ResidencyPlanner {
    /** The choice and why: each mode's need next to the budget. */
    public record Plan(ResidencyMode mode, long budgetBytes, long requiredBytes, String explanation) {}

    private ResidencyPlanner() {}

    public static Plan choose(ModelFootprint f, long budgetBytes) {
        if (budgetBytes <= 0) throw new IllegalArgumentException("the GPU memory budget must be positive");
        StringBuilder why = new StringBuilder();
        for (ResidencyMode m : ResidencyMode.values()) {
            long need = f.requiredBytes(m);
            why.append(m.name().toLowerCase()).append(" needs ").append(human(need)).append(need <= budgetBytes ? " (fits); " : "; ");
            if (need <= budgetBytes) {
                return new Plan(m, budgetBytes, need, "chose " + m.name().toLowerCase() + " for a budget of " + human(budgetBytes) + ": " + why);
            }
        }
        throw new IllegalArgumentException("the model does not fit a GPU memory budget of " + human(budgetBytes) + " in any mode: "
                + why + "raise --gpu-memory-budget or use a smaller bit width");
    }

    /** Parses sizes such as {@code 3GiB}, {@code 512MiB}, {@code 2G}, {@code 1000000}. */
    public static long parseBytes(String s) {
        String t = s.trim().toUpperCase(java.util.Locale.ROOT).replace("IB", "").replace("B", "");
        long mult = 1;
        if (t.endsWith("K")) mult = 1L << 10;
        else if (t.endsWith("M")) mult = 1L << 20;
        else if (t.endsWith("G")) mult = 1L << 30;
        else if (t.endsWith("T")) mult = 1L << 40;
        if (mult > 1) t = t.substring(0, t.length() - 1);
        try {
            double v = Double.parseDouble(t);
            if (v <= 0 || Double.isNaN(v)) throw new NumberFormatException();
            return (long) (v * mult);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + s + "' (examples: 3GiB, 512MiB, 1000000)");
        }
    }

    static String human(long bytes) {
        return bytes >= 1L << 30 ? String.format("%.2f GiB", bytes / (double) (1L << 30)) : String.format("%.1f MiB", bytes / (double) (1L << 20));
    }
}
