import java.io.*;
import java.net.*;
import java.util.*;
import java.util.zip.*;
import org.objectweb.asm.*;

/** Bump.java IN.jar OUT.jar: class files older than version 50 rewritten as version 52 with stack maps. */
public class Bump {
    public static void main(String[] a) throws Exception {
        File in = new File(a[0]);
        URLClassLoader loader = new URLClassLoader(new URL[] {in.toURI().toURL()}, ClassLoader.getPlatformClassLoader());
        int bumped = 0;
        try (ZipFile zf = new ZipFile(in); ZipOutputStream out = new ZipOutputStream(new FileOutputStream(a[1]))) {
            for (Enumeration<? extends ZipEntry> e = zf.entries(); e.hasMoreElements();) {
                ZipEntry ze = e.nextElement();
                byte[] b = zf.getInputStream(ze).readAllBytes();
                if (ze.getName().endsWith(".class") && b.length > 8 && ((b[6] & 0xff) << 8 | (b[7] & 0xff)) < 50) {
                    ClassReader cr = new ClassReader(b);
                    ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES) {
                        @Override protected ClassLoader getClassLoader() { return loader; }
                    };
                    cr.accept(new ClassVisitor(Opcodes.ASM9, cw) {
                        @Override public void visit(int v, int acc, String n, String s, String sup, String[] itf) {
                            super.visit(Opcodes.V1_8, acc, n, s, sup, itf);
                        }
                    }, ClassReader.SKIP_FRAMES);
                    b = cw.toByteArray();
                    bumped++;
                }
                ZipEntry o = new ZipEntry(ze.getName());
                o.setTime(ze.getTime());
                out.putNextEntry(o);
                out.write(b);
                out.closeEntry();
            }
        }
        System.err.println("bumped " + bumped + " classes");
    }
}
