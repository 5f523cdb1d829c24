package io.entrollm.codec;

/** Symbol counts over an alphabet (byte symbols, or pairs of them for the order-1 hint), and the order-0 Shannon entropy. */
public record SymbolHistogram(long[] counts) {

    public SymbolHistogram {
        counts = counts.clone();
    }

    @Override
    public long[] counts() { return counts.clone(); }

    public long count(int symbol) { return counts[symbol]; }

    public int alphabetSize() { return counts.length; }

    public static SymbolHistogram of(byte[] symbols, int alphabetSize) {
        long[] c = new long[alphabetSize];
        for (byte s : symbols) {
            int v = s & 0xFF;
            if (v >= alphabetSize) throw new IllegalArgumentException("symbol " + v + " outside alphabet of " + alphabetSize);
            c[v]++;
        }
        return new SymbolHistogram(c);
    }

    public long total() {
        long t = 0;
        for (long c : counts) t += c;
        return t;
    }

    public int distinctSymbols() {
        int n = 0;
        for (long c : counts) if (c > 0) n++;
        return n;
    }

    /** Shannon entropy in bits per symbol: -sum p log2 p. */
    public double entropyBits() {
        long total = total();
        if (total == 0) return 0;
        double h = 0;
        for (long c : counts) {
            if (c == 0) continue;
            double p = (double) c / total;
            h -= p * Math.log(p);
        }
        return h / Math.log(2);
    }
}
