package io.entrollm.cli;

import picocli.CommandLine.Command;

/** {@code entrollm bench}: benchmarks (not tests) that print tables. */
@Command(name = "bench", mixinStandardHelpOptions = true, header = "Benchmarks: decode, huffman, infer.", description = "Benchmarks: decode throughput (decode), the CPU Huffman codec (huffman) and end-to-end inference (infer).",
        subcommands = {BenchDecodeCommand.class, BenchHuffmanCommand.class, BenchInferCommand.class})
final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { spec.commandLine().usage(spec.commandLine().getOut()); }
}
