package io.entrollm.model;

/**
 * RoPE frequency scaling, as in transformers' {@code rope_parameters} / legacy {@code rope_scaling}.
 * {@code type} is e.g. {@code "llama3"}, {@code "linear"}, {@code "dynamic"}, {@code "yarn"}, {@code
 * "longrope"}; fields a type does not use are NaN or 0.
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositionEmbeddings) {
}
