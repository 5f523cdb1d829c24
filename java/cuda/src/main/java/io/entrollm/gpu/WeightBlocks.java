package io.entrollm.gpu;

import io.entrollm.model.LlamaTensorNames;
import io.entrollm.residency.WeightBlock;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Helpers shared by the layer-weight modes: block uploads, scratch sizing, error-word numbering. */
final class WeightBlocks {
    private WeightBlocks() {}

    /** A new device buffer holding {@code block} (assembled in native host memory, then one upload). */
    static DeviceBuffer upload(CudaContext ctx, WeightBlock block) {
        DeviceBuffer d = DeviceBuffer.allocate(ctx, block.bytes(), "weight block of layer " + block.layer());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate(Math.max(1, block.bytes()), WeightBlock.ALIGN);
            block.copyTo(host);
            d.upload(host.asSlice(0, block.bytes()));
            return d;
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    /** Per weight role (e.g. {@code mlp.down_proj.weight}), the largest target a layer's tensor of that role needs under {@code placement}. */
    static Map<String, Long> scratchBytesByRole(List<WeightBlock> blocks, FormDecoder.Placement placement) {
        Map<String, Long> out = new LinkedHashMap<>();
        for (WeightBlock b : blocks) for (WeightBlock.Stored s : b.tensors()) out.merge(LlamaTensorNames.roleOf(s.name()), FormDecoder.targetBytes(s, placement), Math::max);
        out.values().removeIf(bytes -> bytes == 0);
        return out;
    }

    /**
     * GPU memory bytes one pass's decode of {@code blocks} reads and writes when the blocks are read in
     * place: f16/bf16 vectors read and widened, and, with {@code coded}, coded tensors' bitstream, chunk
     * index and table read and symbols written.
     */
    static long decodeTraffic(List<WeightBlock> blocks, boolean coded) {
        long bytes = 0;
        for (WeightBlock b : blocks) {
            for (WeightBlock.Stored s : b.tensors()) {
                if (s.residentScratchBytes() == 0 || (!coded && !s.vector())) continue;
                bytes += s.residentScratchBytes();
                for (WeightBlock.Piece p : s.pieces()) if (p.kind() != WeightBlock.PieceKind.PARAMS) bytes += p.bytes();
            }
        }
        return bytes;
    }

    /** The plan of the layer decoder-layer tensor {@code name} belongs to, or null. */
    static FormDecoder.Planned plan(List<FormDecoder.Planned> plans, String name) {
        int layer = LlamaTensorNames.layerOf(name);
        return layer >= 0 && layer < plans.size() ? plans.get(layer) : null;
    }

    /** Decoder-layer tensor {@code name} in its GPU form, from its layer's plan. */
    static GpuWeight weight(List<FormDecoder.Planned> plans, String name) {
        FormDecoder.Planned plan = plan(plans, name);
        GpuWeight w = plan == null ? null : plan.weights().get(name);
        if (w == null) throw new IllegalArgumentException("no weights for '" + name + "'");
        return w;
    }

    /** Allocates one scratch buffer per role; closes what it made if an allocation fails. */
    static Map<String, DeviceBuffer> allocateScratch(CudaContext ctx, Map<String, Long> bytesByRole, String what) {
        Map<String, DeviceBuffer> out = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Long> r : bytesByRole.entrySet()) out.put(r.getKey(), DeviceBuffer.allocate(ctx, r.getValue(), what + " for " + r.getKey()));
            return out;
        } catch (RuntimeException e) {
            out.values().forEach(DeviceBuffer::close);
            throw e;
        }
    }

    /** The index of each block's first error word when the blocks' tensors are numbered in order. */
    static int[] firstWords(List<WeightBlock> blocks) {
        int[] first = new int[blocks.size()];
        for (int l = 1; l < blocks.size(); l++) first[l] = first[l - 1] + blocks.get(l - 1).tensors().size();
        return first;
    }

    /** Tensor names in block order: index i owns error word i. */
    static List<String> tensorNames(List<WeightBlock> blocks) {
        return blocks.stream().flatMap(b -> b.tensors().stream()).map(WeightBlock.Stored::name).toList();
    }
}
