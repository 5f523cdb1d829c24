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
 * {@code embN} (--embedding-bits N). Examples: {@code 8:tensor}, {@code 4:group:128:f16}, {@code 4:tensor:search:emb8}.
 */
record ParetoSetting(String label, CompressOptions options) {

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
        try {
            bits = Integer.parseInt(p[0]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("setting '" + text + "': starts with the bits (2..8), e.g. 4:group:128");
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
        boolean search = false, f16 = false, embeddings = false;
        int embeddingBits = 0;
        for (int i = next; i < p.length; i++) {
            switch (p[i]) {
                case "asym", "sym", "mixed", "auto" -> scheme = QuantScheme.parse(p[i]);
                case "search" -> search = true;
                case "f16" -> f16 = true;
                case "emb" -> embeddings = true;
                default -> {
                    if (!p[i].matches("emb[2-8]")) {
                        throw new IllegalArgumentException("setting '" + text + "': unknown flag '" + p[i] + "' (asym, sym, mixed, auto, search, f16, emb, emb2..emb8)");
                    }
                    embeddingBits = p[i].charAt(3) - '0';
                }
            }
        }
        CompressOptions o = new CompressOptions(bits, scheme, Granularity.parse(granularity), Math.max(bits, HuffmanEncoder.DEFAULT_MAX_CODE_LENGTH),
                HuffmanEncoder.DEFAULT_CHUNK_SYMBOLS, embeddings, CompressOptions.Encoding.HUFFMAN, f16 ? DType.F16 : DType.F32, search, embeddingBits);
        return new ParetoSetting(text, o);
    }

    /** A file name for the setting's .entro. */
    String slug() { return "entro-" + label.replaceAll("[^A-Za-z0-9]+", "_"); }
}
