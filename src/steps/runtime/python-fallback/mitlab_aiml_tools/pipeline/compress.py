"""`CompressionUtility` with the lab's SDK's call signatures and behaviour: zip a file or a
directory, unzip an archive; both answer a message and never raise."""
import os
import zipfile


class CompressionUtility:
    @classmethod
    def compress(cls, source_path, compressed_file_path):
        """A file goes in under its own name; a directory's files under their path relative to the
        directory's parent (so `dir/` with its trailing slash puts them at the archive's root)."""
        try:
            with zipfile.ZipFile(compressed_file_path, "w", zipfile.ZIP_DEFLATED) as archive:
                if os.path.isfile(source_path):
                    archive.write(source_path, os.path.basename(source_path))
                else:
                    parent = os.path.dirname(source_path)
                    for folder, _subfolders, names in os.walk(source_path):
                        for name in sorted(names):
                            full = os.path.join(folder, name)
                            if os.path.abspath(full) == os.path.abspath(compressed_file_path):
                                continue
                            archive.write(full, os.path.relpath(full, parent))
            return "Compressed successfully"
        except Exception as error:  # the SDK reports failures as text
            return str(error)

    @classmethod
    def decompress(cls, compressed_file_path, extract_path):
        """Extracts everything; zipfile keeps members from leaving `extract_path`."""
        try:
            with zipfile.ZipFile(compressed_file_path) as archive:
                archive.extractall(extract_path)
            return "Decompressed successfully"
        except Exception as error:
            return str(error)
