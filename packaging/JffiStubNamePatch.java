import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Points jffi's String.format call in the shaded jar to org.epollproxy.shim.JffiStubName.format, in place.
 *
 *   java -cp JAR packaging/JffiStubNamePatch.java JAR
 *
 * Why: jffi's StubLoader names its library with String.format("jffi-%d.%d", ...) at every start, and on JDK 21+
 * a %d loads the locale provider (about 40 classes and their data, about 1 MiB of idle RSS on JDK 25).
 * JffiStubName.format gives the same string without it, and hands any other format to String.format, so
 * the call keeps its meaning whatever it formats. `mvn package` runs this after the shade (java/pom.xml),
 * with the ASM that jnr-ffi brings into the jar. It fails when StubLoader has no such call and was not
 * patched before (a new jffi that names its library another way: look again, and drop this step if the
 * call is gone); a jar patched already is left as it is.
 */
public class JffiStubNamePatch {
    static final String CLASS = "com/kenai/jffi/internal/StubLoader.class";
    static final String FORMAT_DESC = "(Ljava/lang/String;[Ljava/lang/Object;)Ljava/lang/String;";
    static final String TARGET = "org/epollproxy/shim/JffiStubName";

    public static void main(String[] args) throws Exception {
        Path jar = Path.of(args[0]).toAbsolutePath();
        try (FileSystem zip = FileSystems.newFileSystem(URI.create("jar:" + jar.toUri()), Map.of())) {
            Path entry = zip.getPath(CLASS);
            if (!Files.exists(zip.getPath(TARGET + ".class"))) {
                fail(jar + " has no " + TARGET + ".class to point jffi's call to");
            }
            byte[] in = Files.readAllBytes(entry);
            int[] counts = new int[2]; // [0]: calls pointed here now, [1]: calls pointed here before
            ClassReader reader = new ClassReader(in);
            ClassWriter writer = new ClassWriter(reader, 0); // same descriptor: stack and frames unchanged
            reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
                @Override
                public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] exc) {
                    return new MethodVisitor(Opcodes.ASM9, super.visitMethod(access, name, desc, sig, exc)) {
                        @Override
                        public void visitMethodInsn(int op, String owner, String m, String d, boolean itf) {
                            if (op == Opcodes.INVOKESTATIC && m.equals("format") && d.equals(FORMAT_DESC)) {
                                if (owner.equals("java/lang/String")) {
                                    owner = TARGET;
                                    counts[0]++;
                                } else if (owner.equals(TARGET)) {
                                    counts[1]++;
                                }
                            }
                            super.visitMethodInsn(op, owner, m, d, itf);
                        }
                    };
                }
            }, 0);
            if (counts[0] == 0 && counts[1] == 0) {
                fail(CLASS + " in " + jar + " calls String.format(String, Object...) no more: see " + TARGET);
            }
            if (counts[0] > 0) Files.write(entry, writer.toByteArray());
            System.out.println("JffiStubNamePatch: " + CLASS + ": " + counts[0] + " String.format call(s) now "
                    + TARGET + ".format" + (counts[1] > 0 ? ", " + counts[1] + " patched before" : ""));
        }
    }

    private static void fail(String why) {
        System.err.println("JffiStubNamePatch: " + why);
        System.exit(1);
    }
}
