package io.entrollm.gpu;

import io.entrollm.model.StoredTensor;
import io.entrollm.quant.AppliedScheme;
import io.entrollm.residency.WeightBlock;
import io.entrollm.tensor.DType;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntToLongFunction;

/**
 * Turns the tensors of a {@link WeightBlock} lying in GPU memory into their GPU form
 * ({@link GpuWeight}, {@link WeightBlock.Stored#formBytes()}): Huffman-coded tensors decoded into
 * packed symbols (one batched launch per block), float32 vectors widened from f16/bf16, and every other
 * part (packed symbols, scales, stored matrices) either read where it lies in the block or copied out
 * of it, as the residency mode needs. Planned once per block: a layer's decode then costs only its
 * launches and copies, asynchronous on one stream.
 */
final class FormDecoder {
    /** Where a tensor's form lives. */
    enum Placement {
        /** Every part is written to the tensor's target (decoded mode: the block is freed after decoding). */
        OWN,
        /**
         * The block stays in GPU memory while the layer computes (compressed mode; streamed mode, whose
         * schedule keeps a staging block until its layer has computed): only coded symbols and widened
         * vectors are written.
         */
        IN_PLACE
    }

    /**
     * A Huffman-coded tensor as the fused matmul reads it (cuda-kernels/huffman_gemv.cu): its decode
     * parameters, and the bytes a full read touches (bitstream, chunk index, table, scales).
     */
    record Coded(DecodeParams params, long bytes) {}

    /** One block's forms, its coded tensors as they lie in the block, and the launches that produce the forms. */
    record Planned(Map<String, GpuWeight> weights, Map<String, Coded> coded, LayerDecode decode) implements AutoCloseable {
        @Override
        public void close() { decode.close(); }
    }

    private final HuffmanDecodeLauncher huffman;
    private final WidenLauncher widen;

    FormDecoder(CudaContext ctx) {
        this.huffman = new HuffmanDecodeLauncher(ctx);
        this.widen = new WidenLauncher(ctx);
    }

    /** Bytes the target of {@code s} needs under {@code placement}. */
    static long targetBytes(WeightBlock.Stored s, Placement placement) {
        return placement == Placement.OWN ? s.formBytes() : s.residentScratchBytes();
    }

    /**
     * Plans the forms of every tensor of {@code block}, lying at {@code bytes}.
     *
     * @param errorWord device address of the error word of the block's i-th tensor (coded tensors report corrupt chunks there)
     * @param target    each tensor's target, at least {@link #targetBytes} long (unused, and may be null, when that is 0)
     */
    Planned plan(WeightBlock block, DeviceSlice bytes, IntToLongFunction errorWord, Placement placement, Function<WeightBlock.Stored, DeviceSlice> target) {
        List<DecodeParams> coded = new ArrayList<>();
        List<Long> codedOut = new ArrayList<>();
        List<Integer> codedForms = new ArrayList<>();
        List<Consumer<CudaStream>> others = new ArrayList<>();
        Map<String, GpuWeight> weights = new LinkedHashMap<>();
        Map<String, Coded> codedTensors = new LinkedHashMap<>();
        int maxTableBits = 1;
        for (int i = 0; i < block.tensors().size(); i++) {
            WeightBlock.Stored s = block.tensors().get(i);
            long need = targetBytes(s, placement);
            DeviceSlice out = need == 0 ? null : target.apply(s);
            if (out != null && out.bytes() < need) throw new IllegalArgumentException("target of " + out.bytes() + " bytes for '" + s.name() + "' (" + need + ")");
            GpuWeight w;
            if (s.quantized() != null) {
                StoredTensor.Quantized q = s.quantized();
                GpuWeight.Form form = s.nibbles() ? GpuWeight.Form.U4 : GpuWeight.Form.U8;
                DeviceSlice symbols;
                if (q instanceof StoredTensor.Coded e) {
                    symbols = out.buffer().slice(out.offset(), s.symbolBytes());
                    DecodeParams dp = BlockDecoder.huffmanParams(s, e, bytes.address(), errorWord.applyAsLong(i));
                    coded.add(dp);
                    codedTensors.put(s.name(), new Coded(dp, s.pieces().stream().mapToLong(WeightBlock.Piece::bytes).sum()));
                    codedOut.add(symbols.address());
                    codedForms.add(form == GpuWeight.Form.U4 ? GpuWeight.Form.U4.id : GpuWeight.Form.U8.id);
                    maxTableBits = Math.max(maxTableBits, s.tableBits());
                } else if (placement == Placement.OWN) {
                    symbols = out.buffer().slice(out.offset(), s.symbolBytes());
                    others.add(copy(piece(bytes, s, WeightBlock.PieceKind.PACKED), symbols));
                } else {
                    symbols = piece(bytes, s, WeightBlock.PieceKind.PACKED);
                }
                DeviceSlice params = piece(bytes, s, WeightBlock.PieceKind.PARAMS);
                if (placement == Placement.OWN) {
                    DeviceSlice own = out.buffer().slice(out.offset() + WeightBlock.align(s.symbolBytes()), s.paramsBytes());
                    others.add(copy(params, own));
                    params = own;
                }
                long zeros = q.scheme() == AppliedScheme.ASYM ? params.address() + 4 * q.groups() : 0;
                w = new GpuWeight(form, symbols, params.address(), zeros, s.elements(), q.groupSize(), q.bits(), q.scheme().id(), q.sign(),
                        s.symbolBytes() + s.paramsBytes());
            } else {
                DeviceSlice raw = piece(bytes, s, WeightBlock.PieceKind.RAW);
                if (s.vector() && s.rawDtype() != DType.F32) {
                    DeviceSlice f32 = out.buffer().slice(out.offset(), 4 * s.elements());
                    others.add(stream -> widen.launch(s.rawDtype(), raw, s.elements(), f32, stream));
                    w = GpuWeight.plain(GpuWeight.Form.F32, f32, s.elements());
                } else {
                    DeviceSlice data = raw;
                    if (placement == Placement.OWN) {
                        data = out.buffer().slice(out.offset(), raw.bytes());
                        others.add(copy(raw, data));
                    }
                    w = GpuWeight.plain(form(s.rawDtype(), s.name()), data, s.elements());
                }
            }
            weights.put(s.name(), w);
        }
        return new Planned(Map.copyOf(weights), Map.copyOf(codedTensors), new LayerDecode(huffman, coded, codedOut, codedForms,
                maxTableBits, others));
    }

    private static GpuWeight.Form form(DType raw, String name) {
        return switch (raw) {
            case F32 -> GpuWeight.Form.F32;
            case F16 -> GpuWeight.Form.F16;
            case BF16 -> GpuWeight.Form.BF16;
            default -> throw new IllegalArgumentException("tensor '" + name + "': no GPU form for " + raw);
        };
    }

    private static DeviceSlice piece(DeviceSlice block, WeightBlock.Stored s, WeightBlock.PieceKind kind) {
        WeightBlock.Piece p = s.piece(kind);
        return block.buffer().slice(block.offset() + p.offset(), p.bytes());
    }

    private static Consumer<CudaStream> copy(DeviceSlice from, DeviceSlice to) {
        return stream -> {
            if (from.bytes() > 0) {
                Cuda.check(JCudaDriver.cuMemcpyDtoDAsync(to.pointer(), from.pointer(), from.bytes(), stream.handle()), "cuMemcpyDtoDAsync (weight form)");
            }
        };
    }
}
