package io.entrollm.codec;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The decoder's inner loops in C ({@code native/cpu-huffman/entro_huffman.c}, built by {@code make} into
 * {@code target/native/libentrohuff.so}), called through the FFM API with critical downcalls that read and
 * write the Java arrays in place (a critical call holds off the garbage collector while it runs: one group of eight
 * chunks, tens of microseconds). C drops the per-lookup and per-store bounds checks plain Java keeps: it
 * decodes 8-bit symbols at about Huff0's speed and 4-bit ones 1.3x faster, 1.25-1.47x the Java loops (docs/BENCHMARKS.md); {@link DecodeLanes} is the
 * fallback wherever the library is not there, and both give the same symbols (tests).
 *
 * <p>Where the library is found: the system property {@code entrollm.nativeHuffman} names it ({@code off}
 * or empty: never use it); otherwise {@code lib/libentrohuff.so} (a {@code make dist} bundle) or {@code
 * target/native/libentrohuff.so} (a built checkout) under {@code entrollm.home}, which the launcher sets.
 * A library that cannot be loaded is not used, and {@link #status()} says why.
 */
public final class NativeHuffman {
    /** The interface version the library must report ({@code entro_huffman_abi_version}). */
    private static final int ABI_VERSION = 1;
    private static final String LIBRARY = "libentrohuff.so";

    private static final MethodHandle DECODE_LANES;
    private static final String STATUS;

    static {
        MethodHandle handle = null;
        String status;
        Path library = locate();
        if (library == null) {
            status = System.getProperty("entrollm.nativeHuffman") != null ? "java (-Dentrollm.nativeHuffman turns the C loops off)"
                    : "java (no native library: set -Dentrollm.nativeHuffman=PATH to " + LIBRARY + ")";
        } else {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup lookup = SymbolLookup.libraryLookup(library, Arena.global());
                MethodHandle version = linker.downcallHandle(lookup.findOrThrow("entro_huffman_abi_version"), FunctionDescriptor.of(JAVA_INT));
                int found = (int) version.invokeExact();
                if (found != ABI_VERSION) throw new IllegalStateException("interface version " + found + ", expected " + ABI_VERSION);
                handle = linker.downcallHandle(lookup.findOrThrow("entro_huffman_decode_lanes"),
                        FunctionDescriptor.ofVoid(ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS),
                        Linker.Option.critical(true));
                status = "native (" + library + ")";
            } catch (Throwable e) {
                handle = null;
                status = "java (" + library + " not loaded: " + e.getMessage() + ")";
            }
        }
        DECODE_LANES = handle;
        STATUS = status;
    }

    private NativeHuffman() {}

    /** Whether the C loops are loaded. */
    public static boolean available() { return DECODE_LANES != null; }

    /** Which inner loops decode, in words: "native (path)" or "java (why not native)". */
    public static String status() { return STATUS; }

    private static Path locate() {
        String named = System.getProperty("entrollm.nativeHuffman");
        if (named != null) {
            return named.isBlank() || named.equalsIgnoreCase("off") ? null : Path.of(named).toAbsolutePath();
        }
        String home = System.getProperty("entrollm.home");
        if (home == null) return null;
        return Stream.of(Path.of(home, "lib", LIBRARY), Path.of(home, "target", "native", LIBRARY))
                .filter(Files::isRegularFile).findFirst().orElse(null);
    }

    /**
     * Decodes {@code lanes} chunks from the group's big-endian copy {@code bytes}: lane {@code l} holds
     * {@code count[l]} symbols from bit {@code pos[l]} into {@code out[at[l]..]}; on return {@code pos[l]}
     * is where the lane stopped. Before C runs, every lane's reads and writes are checked to stay inside
     * {@code bytes} and {@code out} (the C loops check nothing), so a fault of the caller's invariants is
     * an exception here, never a stray read or write.
     */
    static void decodeLanes(byte[] bytes, DecodeTables t, int lanes, long[] pos, int[] at, int[] count, byte[] out) {
        int tableBits = t.tableBits();
        if (!t.complete() || tableBits < 1 || tableBits > HuffmanCodebook.MAX_SUPPORTED_LENGTH || lanes > pos.length || lanes > at.length
                || lanes > count.length) {
            throw new IllegalArgumentException("tables of " + tableBits + " bits (complete: " + t.complete() + ") for " + lanes + " lanes");
        }
        for (int l = 0; l < lanes; l++) {
            long lastRead = ((pos[l] + (long) count[l] * tableBits) >>> 3) + 8;   // the furthest window a lane can load
            if (pos[l] < 0 || count[l] < 0 || lastRead > bytes.length || at[l] < 0 || (long) at[l] + count[l] > out.length) {
                throw new IllegalStateException("lane " + l + " would leave its buffers: bit " + pos[l] + ", " + count[l]
                        + " symbols at " + at[l] + " (copy " + bytes.length + " bytes, output " + out.length + ")");
            }
        }
        MemorySegment multi = t.multi() == null ? MemorySegment.NULL : MemorySegment.ofArray(t.multi());
        try {
            DECODE_LANES.invokeExact(MemorySegment.ofArray(bytes), MemorySegment.ofArray(t.single()), multi, tableBits, lanes,
                    MemorySegment.ofArray(pos), MemorySegment.ofArray(at), MemorySegment.ofArray(count), MemorySegment.ofArray(out));
        } catch (Throwable e) {
            throw new IllegalStateException("native Huffman decoder failed", e);
        }
    }
}
