package io.entrollm.model;

import java.util.List;

/**
 * Hyper-parameters of a Llama-family decoder (Llama 2/3, SmolLM, Mistral, Qwen2, Phi-3), whatever
 * file they came from. Field names follow Hugging Face's config.json.
 *
 * @param architecture   Hugging Face class name, e.g. {@code LlamaForCausalLM}
 * @param modelType      {@code llama}, {@code mistral}, {@code qwen2}, {@code phi3}
 * @param headDim        per-head dimension (config {@code head_dim}, else hidden / heads)
 * @param ropeScaling    null when RoPE frequencies are unscaled
 * @param attentionBias  q/k/v (and o for Llama) projections carry biases (Qwen2: q/k/v always)
 * @param eosTokenIds    one or more end-of-sequence ids (Llama 3 lists several)
 */
public record ModelConfig(
        String architecture,
        String modelType,
        int hiddenSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int intermediateSize,
        int vocabSize,
        double rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        boolean attentionBias,
        boolean mlpBias,
        int bosTokenId,
        List<Integer> eosTokenIds) {

    public ModelConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
        require(hiddenSize > 0, "hidden_size must be positive");
        require(numLayers > 0, "num_hidden_layers must be positive");
        require(numHeads > 0, "num_attention_heads must be positive");
        require(numKvHeads > 0 && numHeads % numKvHeads == 0,
                "num_key_value_heads (" + numKvHeads + ") must divide num_attention_heads (" + numHeads + ")");
        require(headDim > 0 && headDim % 2 == 0, "head_dim must be positive and even, is " + headDim);
        require(intermediateSize > 0, "intermediate_size must be positive");
        require(vocabSize > 0, "vocab_size must be positive");
        require(rmsNormEps > 0, "rms_norm_eps must be positive");
        for (int eos : eosTokenIds) require(eos >= 0 && eos < vocabSize, "eos_token_id " + eos + " is not in the vocabulary (0.." + (vocabSize - 1) + ")");
        require(bosTokenId >= 0, "bos_token_id must not be negative");
        require(ropeTheta > 0 && Double.isFinite(ropeTheta), "rope_theta must be positive");
        require(Double.isFinite(rmsNormEps), "rms_norm_eps must be finite");
        require(maxPositionEmbeddings > 0, "max_position_embeddings must be positive");
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /** Query heads per key/value head (grouped-query attention). */
    public int kvGroupSize() { return numHeads / numKvHeads; }

    public int qDim() { return numHeads * headDim; }

    public int kvDim() { return numKvHeads * headDim; }
}
