package io.entrollm.cli;

import io.entrollm.model.GgufConverter;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code entrollm convert}: Hugging Face (or GGUF) model to a GGUF file with llama.cpp naming. */
@Command(name = "convert", mixinStandardHelpOptions = true, header = "Convert a model to GGUF, for llama.cpp.",
        description = "Convert a model to GGUF (llama.cpp tensor names and metadata keys).")
final class ConvertCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "Model directory, .safetensors or .gguf")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT.gguf", description = "Output GGUF file.")
    Path output;

    @Option(names = "--outtype", defaultValue = "source", paramLabel = "TYPE",
            description = "Element type of float tensors: source (keep; bf16 for a .entro file, whose tensors dequantize to float32), f32, f16, bf16, "
                    + "q8_0 or q4_0 (matrices in llama.cpp's 32-weight blocks, by its reference quantizer; 1-D tensors stay f32). Default: ${DEFAULT-VALUE}.")
    String outType;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        GgufConverter.OutType type;
        try {
            type = GgufConverter.OutType.valueOf(outType.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--outtype must be source, f32, f16, bf16, q8_0 or q4_0, not '" + outType + "'");
        }
        try (ModelSource source = ModelSources.openHuggingFace(model)) {
            // a .entro file's tensors dequantize to float32; "keep" would double the size of bf16 for nothing
            if (type == GgufConverter.OutType.SOURCE && source.formatDescription().startsWith(".entro")) type = GgufConverter.OutType.BF16;
            GgufConverter.convert(source, output, type);
            spec.commandLine().getOut().printf("wrote %s (%d tensors, %s)%n", output, source.tensors().size(),
                    Bytes.human(Files.size(output)));
        }
        return 0;
    }
}
