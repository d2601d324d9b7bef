import Foundation

/// A path a report or a baseline is written to (`--json`, `--markdown`, `--html`, `--junit`,
/// `--update-baseline`), by one rule for all of them:
///
/// - a device or a FIFO (`/dev/null`, a named pipe), or one of the runner's own descriptors
///   (`/dev/stdout`, `/dev/fd/N`, whatever they are), is written into, never replaced;
/// - a symbolic link is followed: its target is written as below and the link stays a link;
/// - a regular file (or a new one) is written to a temporary file in the same folder, flushed to the
///   disk and renamed over it, so a failed write (a full disk) leaves the old file, or nothing, but
///   never half a report; a replaced file keeps its permissions;
/// - anything else (a folder, a socket, a dangling link) is refused.
///
/// Failures name the path and the operating system's words, on one line.
public struct ReportFile: Sendable {
    public let path: String

    public init(_ path: String) { self.path = path }

    /// Where the bytes go once links are followed.
    enum Target: Equatable {
        /// A regular file, or one to be created: written beside and renamed.
        case file(String)
        /// A device or a FIFO: written into.
        case stream(String)
        /// One of the runner's own descriptors (`/dev/stdout`): written into, at its own offset.
        case descriptor(Int32)
    }

    /// Checks, before any cell runs, that the path can be written: the folder exists and takes a new
    /// file (tried for real, since permission bits say little to root or on a read-only mount).
    /// A FIFO is not opened here: that would wait for its reader.
    public func check() throws(ReportFileError) {
        switch try target() {
        case .file(let resolved):
            let folder = Self.folder(of: resolved)
            let (fd, temporary) = try makeTemporary(in: folder)
            close(fd)
            unlink(temporary)
        case .stream(let resolved):
            guard access(resolved, W_OK) == 0 else { throw failure(errno) }
        case .descriptor(let fd):
            guard fcntl(fd, F_GETFL) >= 0 else { throw failure(errno) }
        }
    }

    /// Writes `data` by the rule above.
    public func write(_ data: Data) throws(ReportFileError) {
        try write { url in try data.write(to: url) }
    }

    /// Writes what `produce` writes into the file at the URL it is given (a temporary file), by the
    /// rule above; for a stream the temporary file is then copied into it.
    public func write(streaming produce: (URL) throws -> Void) throws(ReportFileError) {
        switch try target() {
        case .file(let resolved):
            try replace(resolved, produce)
        case .stream(let resolved):
            let temporary = try produceScratch(produce)
            defer { unlink(temporary) }
            try copy(temporary, into: resolved)
        case .descriptor(let fd):
            let temporary = try produceScratch(produce)
            defer { unlink(temporary) }
            try copy(temporary, intoDescriptor: fd)
        }
    }

    /// Has `produce` write a scratch file in the temporary folder (for a stream or descriptor,
    /// which is then written into from it); the caller removes it.
    private func produceScratch(_ produce: (URL) throws -> Void) throws(ReportFileError) -> String {
        let (scratch, temporary) = try makeTemporary(in: NSTemporaryDirectory())
        close(scratch)
        do {
            try produce(URL(fileURLWithPath: temporary))
        } catch {
            unlink(temporary)
            throw ReportFileError(path: path, reason: Self.osWords(error))
        }
        return temporary
    }

    func target() throws(ReportFileError) -> Target {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            guard errno == ENOENT else { throw failure(errno) }
            return .file(path)
        }
        var resolved = path
        if info.st_mode & S_IFMT == S_IFLNK {
            guard stat(path, &info) == 0 else {
                throw ReportFileError(path: path, reason: "a symbolic link to a missing file (\(String(cString: strerror(errno))))")
            }
            // A descriptor the runner was handed (/dev/stdout, /dev/fd/N) is written into whatever it
            // is: replacing the file behind it would leave the descriptor's owner writing elsewhere.
            if let fd = Self.descriptor(named: path) {
                guard info.st_mode & S_IFMT != S_IFDIR else { throw ReportFileError(path: path, reason: "is a folder") }
                return .descriptor(fd)
            }
            if info.st_mode & S_IFMT == S_IFREG {
                guard let real = realpath(path, nil) else { throw failure(errno) }
                resolved = String(cString: real)
                free(real)
            }
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file(resolved)
        case S_IFCHR, S_IFBLK, S_IFIFO: return .stream(path)
        case S_IFDIR: throw ReportFileError(path: path, reason: "is a folder; name a file in it, e.g. \((path as NSString).appendingPathComponent("report"))")
        default: throw ReportFileError(path: path, reason: "is neither a file, a device nor a FIFO")
        }
    }

    /// The descriptor a path names the runner's own open descriptor by, if it does.
    static func descriptor(named path: String) -> Int32? {
        switch path {
        case "/dev/stdout": return STDOUT_FILENO
        case "/dev/stderr": return STDERR_FILENO
        default:
            for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) {
                return Int32(path.dropFirst(prefix.count))
            }
            return nil
        }
    }

    private static func folder(of path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }

    private func failure(_ code: Int32) -> ReportFileError {
        ReportFileError(path: path, reason: String(cString: strerror(code)))
    }

    private func makeTemporary(in folder: String) throws(ReportFileError) -> (Int32, String) {
        let name = ((path as NSString).lastPathComponent as NSString).lastPathComponent
        var template = Array((folder as NSString).appendingPathComponent(".\(name.prefix(64)).XXXXXX").utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else {
            let code = errno
            throw ReportFileError(path: path, reason: "cannot create a file in \(folder): \(String(cString: strerror(code)))")
        }
        return (fd, String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    private func replace(_ resolved: String, _ produce: (URL) throws -> Void) throws(ReportFileError) {
        let (scratch, temporary) = try makeTemporary(in: Self.folder(of: resolved))
        close(scratch)
        var renamed = false
        defer { if !renamed { unlink(temporary) } }
        do {
            try produce(URL(fileURLWithPath: temporary))
        } catch {
            throw ReportFileError(path: path, reason: Self.osWords(error))
        }
        let fd = open(temporary, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(errno) }
        defer { close(fd) }
        var existing = stat()
        if stat(resolved, &existing) == 0 {
            // The replaced file keeps its mode and, where we may, its owner.
            fchmod(fd, existing.st_mode & 0o7777)
            _ = fchown(fd, existing.st_uid, existing.st_gid)
        } else {
            let mask = umask(0)
            umask(mask)
            fchmod(fd, 0o666 & ~mask)
        }
        // A full disk may only say so when the data reaches it.
        guard fsync(fd) == 0 else { throw failure(errno) }
        guard rename(temporary, resolved) == 0 else { throw failure(errno) }
        renamed = true
    }

    private func copy(_ source: String, into resolved: String) throws(ReportFileError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw failure(errno) }
        defer { close(input) }
        // No O_CREAT, no O_TRUNC: a device or a FIFO is written into as it is.
        let output = open(resolved, O_WRONLY | O_CLOEXEC)
        guard output >= 0 else { throw failure(errno) }
        defer { close(output) }
        try copy(input: input, output: output)
    }

    private func copy(_ source: String, intoDescriptor output: Int32) throws(ReportFileError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw failure(errno) }
        defer { close(input) }
        try copy(input: input, output: output)
    }

    private func copy(input: Int32, output: Int32) throws(ReportFileError) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw failure(errno) }
            if count == 0 { return }
            var offset = 0
            while offset < count {
                let written = buffer.withUnsafeBytes { Foundation.write(output, $0.baseAddress! + offset, count - offset) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { throw failure(written < 0 ? errno : EIO) }
                offset += written
            }
        }
    }

    /// The operating system's words in a Foundation error, on one line.
    static func osWords(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)) }
        return "\(ns.localizedDescription)".split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// A report or baseline that cannot be written: the path as given, and why, in the OS's words.
public struct ReportFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}
