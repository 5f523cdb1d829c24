package io.entrollm.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The dependency rules of docs/ARCHITECTURE.md over the classes of every module (this module's test
 * class path holds them all): consumers of weights see {@link io.entrollm.model.StoredTensor}, never the
 * .entro container; the model layer does not know inference; packages form no cycles.
 */
class ArchitectureTest {
    static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        // main classes only: test classes come as target/test-classes directories or, in a full reactor build, as *-tests.jar
        ImportOption mainOnly = location -> !location.contains("/test-classes/") && !location.contains("-tests.jar");
        classes = new ClassFileImporter().withImportOption(mainOnly).importPackages("io.entrollm");
    }

    @Test
    void weightConsumersDoNotImportTheContainerFormat() {
        noClasses().that().resideInAnyPackage("io.entrollm.gpu..", "io.entrollm.residency..", "io.entrollm.infer..")
                .should().dependOnClassesThat().resideInAPackage("io.entrollm.container..")
                .because("they take StoredTensor from a ModelSource; only the container (and commands that write or inspect it) know its layout")
                .check(classes);
    }

    @Test
    void theModelLayerDoesNotKnowInference() {
        noClasses().that().resideInAPackage("io.entrollm.model..").should().dependOnClassesThat().resideInAPackage("io.entrollm.infer..")
                .check(classes);
    }

    @Test
    void packagesFormNoCycles() {
        slices().matching("io.entrollm.(*)..").should().beFreeOfCycles().check(classes);
    }
}
