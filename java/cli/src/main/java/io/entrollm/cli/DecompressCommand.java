package io.entrollm.cli;

import io.entrollm.container.EntroModel;
import io.entrollm.container.Decompressor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code entrollm decompress}: .entro to a dequantized Hugging Face model directory, or back to its GGUF. */
@Command(name = "decompress", mixinStandardHelpOptions = true, header = "Write a .entro model back as a Hugging Face folder or a GGUF file.",
        description = {"Write a dequantized Hugging Face model (model.safetensors, config.json, tokenizer.json).",
                "With --gguf: a GGUF file; a .entro compressed from a GGUF with --keep-quantization gives back that file byte for byte."})
final class DecompressCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL.entro")
    Path input;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR|OUT.gguf", description = "The folder to write (new or empty), or with --gguf the file; it appears whole, or not at all.")
    Path output;

    @Option(names = "--gguf", description = "Write a GGUF file: the source GGUF, byte for byte, of a .entro made with `compress --keep-quantization`; "
            + "otherwise the model converted as `convert` does (weights in --dtype).")
    boolean gguf;

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
            if (gguf) {
                writeGguf(model, target);
                return 0;
            }
            Decompressor.writeHuggingFace(model, output, target);
            spec.commandLine().getOut().printf("wrote %s (%d tensors, %s)%n", output, model.tensors().size(), target);
        }
        return 0;
    }

    private void writeGguf(EntroModel model, io.entrollm.tensor.DType target) throws java.io.IOException {
        var out = spec.commandLine().getOut();
        var origin = model.file().directory().gguf();
        if (origin != null) {
            io.entrollm.container.GgufOrigins.rebuild(model.file(), output);
            out.printf("wrote %s: the source GGUF byte for byte (%s, %d tensors, CRC32C %08x)%n", output, Bytes.human(origin.fileBytes()),
                    origin.tensors().size(), origin.crc32c());
        } else {
            io.entrollm.model.GgufConverter.convert(model, output, io.entrollm.model.GgufConverter.OutType.valueOf(target.name()));
            out.printf("wrote %s: converted to GGUF, weights in %s (%s was not compressed from a GGUF with --keep-quantization)%n", output,
                    target.name().toLowerCase(java.util.Locale.ROOT), input.getFileName());
        }
    }
}
