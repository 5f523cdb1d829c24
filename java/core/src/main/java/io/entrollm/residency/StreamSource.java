package io.entrollm.residency;

/** Where the STREAMED mode keeps the layers it copies to the GPU. */
public enum StreamSource {
    /** Every layer's block copied once into pinned host memory at load: fastest, needs host memory for the whole model. */
    HOST,
    /**
     * Blocks read from the memory-mapped model file during each pass into two pinned bounce buffers:
     * host memory holds two layers, so models larger than host memory run, at the speed of the file's
     * storage (or of the page cache, when the OS still holds the file).
     */
    STORAGE
}
