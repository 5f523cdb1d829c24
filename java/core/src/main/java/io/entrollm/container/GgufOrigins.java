package io.entrollm.container;

import io.entrollm.container.EntroDirectory.GgufOrigin;
import io.entrollm.container.EntroDirectory.GgufTensor;
import io.entrollm.container.EntroLayout.SectionKind;
import io.entrollm.format.FormatException;
import io.entrollm.format.gguf.GgufFile;
import io.entrollm.io.Alignment;
import io.entrollm.io.AtomicFile;
import io.entrollm.model.HuggingFaceView;
import io.entrollm.model.ModelConfig;
import io.entrollm.model.RopePermutation;
import io.entrollm.tensor.Tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A GGUF file kept inside a .entro ({@code compress --keep-quantization}) and given back byte for byte
 * ({@code decompress --gguf}). The directory entries hold the tensors with Hugging Face names and row order
 * (so {@code run} reads the .entro like any other); what else the file was is recorded here: its bytes up to
 * the tensor data (metadata, tensor infos, padding), followed by the data of tensors that have no entry
 * (rope_freqs.weight), deflated (RFC 1951, the metadata is mostly vocabulary text) in a GGUF_HEADER section,
 * and in the directory the tensors in file order, the data alignment, the header's inflated size, the file's
 * size and CRC32C. Rebuilding writes the header, then each tensor at the next aligned
 * offset (the rule GGUF readers enforce) with zero padding, and refuses to keep a result whose size or
 * CRC32C differs from the source's.
 */
public final class GgufOrigins {
    private GgufOrigins() {}

    /**
     * Writes the GGUF_HEADER section of {@code gguf} and returns what the directory records. {@code entryNames}
     * are the directory's tensor names in order; {@code config} is the model's (null for an architecture
     * whose tensors keep their GGUF names).
     */
    static GgufOrigin record(EntroWriter w, GgufFile gguf, ModelConfig config, List<String> entryNames) throws IOException {
        Map<String, Integer> entryIndex = new HashMap<>();
        for (int i = 0; i < entryNames.size(); i++) entryIndex.put(entryNames.get(i), i);
        ByteArrayOutputStream extras = new ByteArrayOutputStream();
        List<GgufTensor> tensors = new ArrayList<>();
        for (Tensor t : gguf.tensors()) {
            String name = config == null ? t.name()
                    : HuggingFaceView.isWeight(t.name()) ? HuggingFaceView.huggingFaceName(t.name(), config).orElse(null) : null;
            Integer entry = name == null ? null : entryIndex.get(name);
            if (entry != null) {
                tensors.add(new GgufTensor(t.name(), entry, config == null ? 0 : HuggingFaceView.ropeHeads(config, name), t.byteSize(), 0));
            } else {
                if (t.byteSize() > Integer.MAX_VALUE - 8 - gguf.dataStart() - extras.size()) {
                    throw new IllegalArgumentException(gguf.path() + ": tensor '" + t.name() + "' has no Hugging Face name and is too large to keep beside the header");
                }
                tensors.add(new GgufTensor(t.name(), -1, 0, t.byteSize(), gguf.dataStart() + extras.size()));
                extras.writeBytes(t.data().toArray(ValueLayout.JAVA_BYTE));
            }
        }
        MemorySegment bytes = gguf.bytes();
        byte[] header = new byte[Math.toIntExact(gguf.dataStart() + extras.size())];
        MemorySegment.copy(bytes, ValueLayout.JAVA_BYTE, 0, header, 0, Math.toIntExact(gguf.dataStart()));
        System.arraycopy(extras.toByteArray(), 0, header, Math.toIntExact(gguf.dataStart()), extras.size());
        int section = w.section(SectionKind.GGUF_HEADER, EntroLayout.NO_TENSOR, deflate(header));
        return new GgufOrigin(section, header.length, gguf.dataStart(), gguf.alignment(), bytes.byteSize(), crc32c(bytes), List.copyOf(tensors));
    }

    private static byte[] deflate(byte[] bytes) {
        java.util.zip.Deflater d = new java.util.zip.Deflater(java.util.zip.Deflater.BEST_COMPRESSION, true);
        try {
            d.setInput(bytes);
            d.finish();
            ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length / 3 + 64);
            byte[] buf = new byte[1 << 16];
            while (!d.finished()) out.write(buf, 0, d.deflate(buf));
            return out.toByteArray();
        } finally {
            d.end();
        }
    }

    /** The GGUF_HEADER section inflated to exactly the {@code headerBytes} the directory records (checked before allocating). */
    static MemorySegment inflate(EntroFile f, GgufOrigin g) {
        if (g.headerBytes() > Integer.MAX_VALUE - 8) throw new FormatException(f.path(), "gguf: a header of " + g.headerBytes() + " bytes is too large");
        byte[] out = new byte[(int) g.headerBytes()];
        java.util.zip.Inflater inf = new java.util.zip.Inflater(true);
        try {
            inf.setInput(f.sectionBytes(g.headerSection()).asByteBuffer());
            int n = 0;
            while (n < out.length && !inf.finished()) {
                int k = inf.inflate(out, n, out.length - n);
                if (k == 0 && (inf.needsInput() || inf.needsDictionary())) break;
                n += k;
            }
            // a stream that fills the buffer exactly ends on the next call, which must produce nothing
            boolean extra = !inf.finished() && inf.inflate(new byte[1]) > 0;
            if (n != out.length || extra || !inf.finished() || inf.getRemaining() != 0) {
                throw new FormatException(f.path(), "gguf: the header section does not inflate to exactly " + g.headerBytes() + " bytes");
            }
        } catch (java.util.zip.DataFormatException e) {
            throw new FormatException(f.path(), "gguf: the header section is not a valid deflate stream: " + e.getMessage());
        } finally {
            inf.end();
        }
        return MemorySegment.ofArray(out);
    }

    /** CRC32C of a mapping of any size (ByteBuffers stop at 2 GiB). */
    static int crc32c(MemorySegment bytes) {
        CRC32C crc = new CRC32C();
        for (long at = 0; at < bytes.byteSize(); at += 1 << 30) crc.update(bytes.asSlice(at, Math.min(1L << 30, bytes.byteSize() - at)).asByteBuffer());
        return (int) crc.getValue();
    }

    /**
     * Writes the GGUF {@code f} was compressed from to {@code out}, atomically.
     *
     * @throws IllegalArgumentException if {@code f} was not compressed from a GGUF with its quantization kept
     * @throws FormatException if the recorded layout is inconsistent or the rebuilt bytes are not the source's
     */
    public static void rebuild(EntroFile f, Path out) throws IOException {
        GgufOrigin g = f.directory().gguf();
        if (g == null) throw new IllegalArgumentException(f.path() + " was not compressed from a GGUF file with --keep-quantization");
        MemorySegment header = inflate(f, g);
        if (g.dataStart() > header.byteSize()) throw new FormatException(f.path(), "gguf: data starts at " + g.dataStart() + ", past the " + header.byteSize() + "-byte header");
        CRC32C crc = new CRC32C();
        try (AtomicFile file = AtomicFile.create(out)) {
            FileChannel ch = file.channel();
            long position = write(ch, 0, header.asSlice(0, g.dataStart()), crc);
            long data = 0;   // offset in the data section
            for (GgufTensor t : g.tensors()) {
                long at = Alignment.alignUp(data, g.alignment());
                position = zeros(ch, position, at - data, crc);
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment bytes = tensorBytes(f, g, t, header, arena);
                    if (bytes.byteSize() != t.bytes()) {
                        throw FormatException.forTensor(f.path(), t.name(), "gguf: holds " + bytes.byteSize() + " bytes, the source had " + t.bytes());
                    }
                    position = write(ch, position, bytes, crc);
                }
                data = at + t.bytes();
            }
            if (position > g.fileBytes()) throw new FormatException(f.path(), "gguf: rebuilt " + position + " bytes, the source had " + g.fileBytes());
            position = zeros(ch, position, g.fileBytes() - position, crc);
            if ((int) crc.getValue() != g.crc32c()) {
                throw new FormatException(f.path(), "gguf: the rebuilt file's CRC32C " + Integer.toHexString((int) crc.getValue())
                        + " is not the source's " + Integer.toHexString(g.crc32c()) + " (the source's padding may not have been zeros)");
            }
            file.commit();
        }
    }

    private static MemorySegment tensorBytes(EntroFile f, GgufOrigin g, GgufTensor t, MemorySegment header, Arena arena) {
        if (t.entry() < 0) {
            if (t.headerOffset() < g.dataStart() || t.headerOffset() + t.bytes() > header.byteSize()) {
                throw FormatException.forTensor(f.path(), t.name(), "gguf: bytes outside the header section");
            }
            return header.asSlice(t.headerOffset(), t.bytes());
        }
        Tensor tensor = switch (f.entries().get(t.entry())) {
            case EntroEntry.Raw r -> f.rawTensor(r);
            case EntroEntry.GgmlCoded c -> f.ggmlBlocks(c, arena);
            case EntroEntry.Quantized q -> throw FormatException.forTensor(f.path(), q.name(), "gguf: a tensor quantized by EntroLLM is not the source's");
        };
        try {
            return t.ropeHeads() > 0 ? RopePermutation.toGguf(tensor, t.ropeHeads(), arena).data() : tensor.data();
        } catch (IllegalArgumentException e) {
            throw FormatException.forTensor(f.path(), t.name(), "gguf: " + e.getMessage());
        }
    }

    private static long write(FileChannel ch, long position, MemorySegment bytes, CRC32C crc) throws IOException {
        for (long at = 0; at < bytes.byteSize(); at += 1 << 30) {
            ByteBuffer b = bytes.asSlice(at, Math.min(1L << 30, bytes.byteSize() - at)).asByteBuffer();
            crc.update(b.duplicate());
            while (b.hasRemaining()) position += ch.write(b, position);
        }
        return position;
    }

    private static long zeros(FileChannel ch, long position, long count, CRC32C crc) throws IOException {
        byte[] z = new byte[(int) Math.min(count, 1 << 16)];
        for (long left = count; left > 0; left -= z.length) {
            ByteBuffer b = ByteBuffer.wrap(z, 0, (int) Math.min(z.length, left));
            crc.update(b.duplicate());
            while (b.hasRemaining()) position += ch.write(b, position);
        }
        return position;
    }
}
