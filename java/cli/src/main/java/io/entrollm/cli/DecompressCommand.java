package io.entrollm.cli;

import io.entrollm.container.EntroModel;
import io.entrollm.container.Decompressor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code entrollm decompress}: .entro to a dequantized Hugging Face model directory. */
@Command(name = "decompress", mixinStandardHelpOptions = true, header = "Write a .entro model back as a Hugging Face folder.",
        description = "Write a dequantized Hugging Face model (model.safetensors, config.json, tokenizer.json).")
final class DecompressCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL.entro")
    Path input;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "The folder to write (new or empty; it appears whole, or not at all).")
    Path output;

    @Option(names = "--dtype", defaultValue = "bf16", description = "Dtype of dequantized weights: bf16, f16 or f32. Default: ${DEFAULT-VALUE}.")
    String dtype;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        io.entrollm.tensor.DType target = switch (dtype.toLowerCase(java.util.Locale.ROOT)) {
            case "bf16" -> io.entrollm.tensor.DType.BF16;
            case "f16" -> io.entrollm.tensor.DType.F16;
            case "f32" -> io.entrollm.tensor.DType.F32;
            default -> throw new IllegalArgumentException("--dtype must be bf16, f16 or f32, not '" + dtype + "'");
        };
        try (EntroModel model = EntroModel.open(input)) {
            Decompressor.writeHuggingFace(model, output, target);
            spec.commandLine().getOut().printf("wrote %s (%d tensors, %s)%n", output, model.tensors().size(), target);
        }
        return 0;
    }
}
