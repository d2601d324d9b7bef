import Foundation

/// Where a matrix's own baseline lives: `expected/<name>.json` in the matrix file's folder. The
/// built-in default has no file of its own, so its baseline is the `matrix/expected/default.json`
/// of the package the runner was built from, found from the runner's executable
/// (`<package>/.build/<configuration>/interop-matrix`) or, failing that, from where this source file
/// was compiled, so it is found whatever folder the tool is run from.
public enum BaselineLocation {
    /// The matrix's own baseline, if it exists: `matrixPath` nil means the built-in default.
    public static func own(matrixPath: String?, name: String) -> String? {
        if let matrixPath {
            let folder = (matrixPath as NSString).deletingLastPathComponent
            let path = ((folder.isEmpty ? "." : folder) as NSString).appendingPathComponent("expected/\(name).json")
            return FileManager.default.isReadableFile(atPath: path) ? path : nil
        }
        return packageRoots().lazy
            .map { ($0 as NSString).appendingPathComponent("matrix/expected/\(name).json") }
            .first { FileManager.default.isReadableFile(atPath: $0) }
    }

    /// Folders that hold this package (a Package.swift and a matrix/ folder): the executable's
    /// ancestors first, then the source tree's.
    static func packageRoots() -> [String] {
        var roots: [String] = []
        func ancestors(of path: String) {
            var folder = (path as NSString).deletingLastPathComponent
            while folder.count > 1 {
                let manifest = (folder as NSString).appendingPathComponent("Package.swift")
                let matrix = (folder as NSString).appendingPathComponent("matrix/default.yml")
                if FileManager.default.fileExists(atPath: manifest) && FileManager.default.fileExists(atPath: matrix), !roots.contains(folder) {
                    roots.append(folder)
                }
                folder = (folder as NSString).deletingLastPathComponent
            }
        }
        ancestors(of: PeerCatalog.executableDirectory() + "/x")
        // Sources/InteropMatrix/BaselineLocation.swift → the package root.
        ancestors(of: #filePath)
        return roots
    }
}
