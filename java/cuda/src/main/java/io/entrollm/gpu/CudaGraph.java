package io.entrollm.gpu;

import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;

/**
 * One stream's work captured once (driver API stream capture) and instantiated, so that replaying it
 * costs one launch instead of one per kernel: what {@link LlamaGpu} does with a generated token's
 * pass. The captured kernels keep the arguments they were captured with; whatever changes between
 * replays must live in device memory. Closing frees the graph and its instance.
 */
final class CudaGraph implements AutoCloseable {
    private final CUgraph graph;
    private final CUgraphExec exec;
    private boolean closed;

    private CudaGraph(CUgraph graph, CUgraphExec exec) {
        this.graph = graph;
        this.exec = exec;
    }

    /** Captures what {@code work} enqueues on {@code stream} (it must enqueue nothing elsewhere and not synchronise) and instantiates it; nothing runs. */
    static CudaGraph capture(CudaStream stream, Runnable work) {
        Cuda.check(JCudaDriver.cuStreamBeginCapture(stream.handle(), CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL), "cuStreamBeginCapture");
        CUgraph graph = new CUgraph();
        try {
            work.run();
        } catch (RuntimeException e) {
            // end the capture so the stream is usable again; its partial graph is dropped
            if (JCudaDriver.cuStreamEndCapture(stream.handle(), graph) == 0) JCudaDriver.cuGraphDestroy(graph);
            throw e;
        }
        Cuda.check(JCudaDriver.cuStreamEndCapture(stream.handle(), graph), "cuStreamEndCapture");
        CUgraphExec exec = new CUgraphExec();
        int status = JCudaDriver.cuGraphInstantiate(exec, graph, 0);
        if (status != 0) {
            JCudaDriver.cuGraphDestroy(graph);
            Cuda.check(status, "cuGraphInstantiate");
        }
        return new CudaGraph(graph, exec);
    }

    /** Enqueues the captured work on {@code stream}. */
    void launch(CudaStream stream) {
        if (closed) throw new IllegalStateException("CUDA graph already freed");
        Cuda.check(JCudaDriver.cuGraphLaunch(exec, stream.handle()), "cuGraphLaunch");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        JCudaDriver.cuGraphExecDestroy(exec);
        JCudaDriver.cuGraphDestroy(graph);
    }
}
