package io.entrollm.cli;

import io.entrollm.codec.HuffmanEncoder;
import io.entrollm.container.CompressOptions;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.tensor.DType;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One of our quantization settings in {@code pareto}'s list, written {@code BITS:GRANULARITY[:FLAG...]}: granularity
 * {@code tensor}, {@code channel} or {@code group:G}; flags {@code asym}, {@code sym}, {@code mixed} (default),
 * {@code auto}, {@code search} (--scale-search), {@code f16} (--scale-dtype f16), {@code emb} (--include-embeddings),
 * {@code embN} (--embedding-bits N; {@code emb0} keeps the embedding as stored), {@code embt} (--embedding-granularity
 * tensor). Like {@code compress}, a setting without {@code emb} or {@code embN} quantizes the embedding and head at 8 bits
 * with a scale per row (before 2026-12-02 it kept them as stored, so older tables' rows without a flag are today's {@code
 * emb0}, and their {@code embN} rows today's {@code embN:embt}). Examples: {@code 8:tensor}, {@code 4:group:128:f16},
 * {@code 4:tensor:search:emb8:embt}.
 * {@code tX} in place of the bits (e.g. {@code t3.5:tensor:search:emb8}) chooses each layer's bits for X bits a weight
 * (--target-bits X, with pareto's --calibration text when given); with it, flags {@code gN} let a layer take group:N
 * as well as the setting's granularity (--target-granularities). Flag {@code gptq} computes the symbols with error
 * feedback under pareto's --calibration text (--gptq); flag {@code wsearch} searches scales weighing errors by that text's
 * inputs (--scale-search with --calibration).
 *
 * @param targetBits          the --target-bits of the setting, or NaN
 * @param targetGranularities the granularities a layer may get with a target
 * @param errorFeedback       whether the symbols are computed with error feedback (needs a calibration text)
 * @param weighSearch         whether the scale search weighs errors by the calibration text's inputs (needs one)
 */
record ParetoSetting(String label, CompressOptions options, double targetBits, List<Granularity> targetGranularities, boolean errorFeedback,
                     boolean weighSearch) {

    /** Whether the setting needs pareto's --calibration text. */
    boolean needsCalibrationText() { return errorFeedback || weighSearch; }

    static List<ParetoSetting> parseList(String list) {
        List<ParetoSetting> out = new ArrayList<>();
        for (String s : list.split(",")) if (!s.isBlank()) out.add(parse(s.strip()));
        return out;
    }

    static ParetoSetting parse(String text) {
        try {
            return parseUnchecked(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith("setting '") ? e.getMessage() : "setting '" + text + "': " + e.getMessage());
        }
    }

    private static ParetoSetting parseUnchecked(String text) {
        String[] p = text.toLowerCase(Locale.ROOT).split(":");
        int bits;
        double target = Double.NaN;
        try {
            if (p[0].startsWith("t")) {
                target = Double.parseDouble(p[0].substring(1));
                if (!(target > 0 && target <= 9)) throw new IllegalArgumentException("setting '" + text + "': target bits must be in (0, 9]");
                bits = (int) Math.max(2, Math.min(8, Math.round(target)));   // the layers' widths come from the allocation
            } else {
                bits = Integer.parseInt(p[0]);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("setting '" + text + "': starts with the bits (2..8) or tX (a target, e.g. t3.5), e.g. 4:group:128");
        }
        if (p.length < 2) throw new IllegalArgumentException("setting '" + text + "': needs a granularity (tensor, channel or group:G)");
        int next = 2;
        String granularity = p[1];
        if (granularity.equals("group")) {
            if (p.length < 3) throw new IllegalArgumentException("setting '" + text + "': group needs its size, e.g. group:128");
            granularity = "group:" + p[2];
            next = 3;
        }
        QuantScheme scheme = QuantScheme.MIXED;
        boolean search = false, f16 = false, embeddings = false, gptq = false, embeddingPerTensor = false, weighted = false;
        Integer embeddingBits = null;
        List<Granularity> extra = new ArrayList<>();
        for (int i = next; i < p.length; i++) {
            switch (p[i]) {
                case "asym", "sym", "mixed", "auto" -> scheme = QuantScheme.parse(p[i]);
                case "search" -> search = true;
                case "wsearch" -> search = weighted = true;
                case "f16" -> f16 = true;
                case "emb" -> embeddings = true;
                case "gptq" -> gptq = true;
                case "embt" -> embeddingPerTensor = true;
                default -> {
                    if (p[i].matches("g[1-9][0-9]*") && !Double.isNaN(target)) {
                        extra.add(Granularity.group(Integer.parseInt(p[i].substring(1))));
                    } else if (p[i].matches("emb[02-8]")) {
                        embeddingBits = p[i].charAt(3) - '0';
                    } else {
                        throw new IllegalArgumentException("setting '" + text + "': unknown flag '" + p[i]
                                + "' (asym, sym, mixed, auto, search, f16, emb, emb0, emb2..emb8, embt, gptq, wsearch; gN with a tX target)");
                    }
                }
            }
        }
        CompressOptions o = new CompressOptions(bits, scheme, Granularity.parse(granularity), Math.max(bits, HuffmanEncoder.DEFAULT_MAX_CODE_LENGTH),
                HuffmanEncoder.DEFAULT_CHUNK_SYMBOLS, embeddings, CompressOptions.Encoding.HUFFMAN, f16 ? DType.F16 : DType.F32, search,
                CompressCommand.embeddingBits(embeddingBits, embeddings))
                .withEmbeddingGranularity(embeddingPerTensor ? Granularity.TENSOR : Granularity.CHANNEL);
        List<Granularity> granularities = new ArrayList<>(List.of(o.granularity()));
        granularities.addAll(extra);
        return new ParetoSetting(text, o, target, List.copyOf(granularities), gptq, weighted);
    }

    /** A file name for the setting's .entro. */
    String slug() { return "entro-" + label.replaceAll("[^A-Za-z0-9]+", "_"); }
}
