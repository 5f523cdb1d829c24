package io.entrollm.infer;

import io.entrollm.model.ModelConfig;

/** Keys and values of every layer for up to {@code capacity} positions: {@code [layer][pos * kvDim + i]}. */
public final class KvCache {
    final float[][] keys;
    final float[][] values;
    final int capacity;

    public KvCache(ModelConfig c, int capacity) {
        this.capacity = capacity;
        keys = new float[c.numLayers()][Math.multiplyExact(capacity, c.kvDim())];
        values = new float[c.numLayers()][Math.multiplyExact(capacity, c.kvDim())];
    }

    public int capacity() { return capacity; }
}
