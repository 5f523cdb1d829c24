package io.entrollm.analysis;

import com.aayushatharva.brotli4j.Brotli4jLoader;
import com.aayushatharva.brotli4j.decoder.Decoder;
import com.aayushatharva.brotli4j.decoder.DirectDecompress;
import com.aayushatharva.brotli4j.encoder.Encoder;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import net.jpountz.lz4.LZ4Factory;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZInputStream;
import org.tukaani.xz.XZOutputStream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * The general-purpose codecs of the study, each through its well-kept Java binding: zstd-jni,
 * lz4-java, java.util.zip (deflate), XZ for Java (LZMA2) and brotli4j.
 */
public final class Codecs {
    private static final Map<String, Supplier<Codec>> ALL = new LinkedHashMap<>();

    static {
        ALL.put("zstd-1", () -> zstd(1, false));
        ALL.put("zstd-3", () -> zstd(3, false));
        ALL.put("zstd-19", () -> zstd(19, false));
        ALL.put("zstd-19-long", () -> zstd(19, true));
        ALL.put("lz4", () -> lz4(false));
        ALL.put("lz4-hc", () -> lz4(true));
        ALL.put("deflate-6", () -> deflate(6));
        ALL.put("deflate-9", () -> deflate(9));
        ALL.put("xz-6", Codecs::xz);
        ALL.put("brotli-5", () -> brotli(5));
        ALL.put("brotli-11", () -> brotli(11));
    }

    private Codecs() {}

    public static List<String> names() { return List.copyOf(ALL.keySet()); }

    public static List<Codec> byNames(List<String> names) {
        List<Codec> out = new ArrayList<>();
        for (String n : names) {
            Supplier<Codec> s = ALL.get(n);
            if (s == null) throw new IllegalArgumentException("unknown codec '" + n + "' (known: " + String.join(", ", ALL.keySet()) + ")");
            out.add(s.get());
        }
        return out;
    }

    public static List<Codec> all() { return byNames(names()); }

    private record Simple(String name, java.util.function.Function<byte[], byte[]> c,
                          java.util.function.BiFunction<byte[], Integer, byte[]> d) implements Codec {
        @Override public byte[] compress(byte[] input) { return c.apply(input); }

        @Override public byte[] decompress(byte[] compressed, int originalLength) { return d.apply(compressed, originalLength); }
    }

    /** zstd at a level; "long" enables long-distance matching with a 128 MiB window (zstd --long=27). */
    static Codec zstd(int level, boolean longMode) {
        return new Simple("zstd-" + level + (longMode ? "-long" : ""), in -> {
            try (ZstdCompressCtx ctx = new ZstdCompressCtx()) {
                ctx.setLevel(level);
                if (longMode) {
                    ctx.setLong(27);
                }
                return ctx.compress(in);
            }
        }, (c, n) -> {
            try (ZstdDecompressCtx ctx = new ZstdDecompressCtx()) { // default window limit is 2^27, enough for --long=27
                byte[] out = ctx.decompress(c, n);
                if (out.length != n) throw new IllegalStateException("zstd returned " + out.length + " bytes, expected " + n);
                return out;
            }
        });
    }

    static Codec lz4(boolean hc) {
        LZ4Factory f = LZ4Factory.fastestInstance();
        return new Simple(hc ? "lz4-hc" : "lz4", in -> (hc ? f.highCompressor() : f.fastCompressor()).compress(in),
                (c, n) -> f.fastDecompressor().decompress(c, n));
    }

    static Codec deflate(int level) {
        return new Simple("deflate-" + level, in -> {
            Deflater d = new Deflater(level);
            try {
                d.setInput(in);
                d.finish();
                ByteArrayOutputStream out = new ByteArrayOutputStream(in.length / 2 + 64);
                byte[] buf = new byte[1 << 16];
                while (!d.finished()) out.write(buf, 0, d.deflate(buf));
                return out.toByteArray();
            } finally {
                d.end();
            }
        }, (c, n) -> {
            Inflater i = new Inflater();
            try {
                i.setInput(c);
                byte[] out = new byte[n];
                int got = 0;
                while (got < n && !i.finished()) got += i.inflate(out, got, n - got);
                if (got != n) throw new IllegalStateException("inflate returned " + got + " bytes, expected " + n);
                return out;
            } catch (DataFormatException e) {
                throw new IllegalStateException(e);
            } finally {
                i.end();
            }
        });
    }

    static Codec xz() {
        return new Simple("xz-6", in -> {
            try {
                ByteArrayOutputStream out = new ByteArrayOutputStream(in.length / 2 + 64);
                try (XZOutputStream xz = new XZOutputStream(out, new LZMA2Options(6))) {
                    xz.write(in);
                }
                return out.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, (c, n) -> {
            try (XZInputStream in = new XZInputStream(new ByteArrayInputStream(c))) {
                byte[] out = in.readNBytes(n);
                if (out.length != n) throw new IllegalStateException("xz returned " + out.length + " bytes, expected " + n);
                return out;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    static Codec brotli(int quality) {
        Brotli4jLoader.ensureAvailability();
        Encoder.Parameters p = new Encoder.Parameters().setQuality(quality);
        return new Simple("brotli-" + quality, in -> {
            try {
                return Encoder.compress(in, p);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, (c, n) -> {
            DirectDecompress d;
            try {
                d = Decoder.decompress(c);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            byte[] out = d.getDecompressedData();
            if (out == null || out.length != n) throw new IllegalStateException("brotli returned " + (out == null ? 0 : out.length) + " bytes, expected " + n);
            return out;
        });
    }

}
