//! The check an upload goes through as it streams: its type decided from its first bytes, its
//! size counted chunk by chunk against its kind's limit, its image dimensions capped, its name
//! sanitised. Nothing is held beyond the first [`HEAD_BYTES`].

use super::sniffing::{image_dimensions, sniff, utf8_tail};
use super::{FileKind, FileName, FileRefusal, HEAD_BYTES, MAX_DOCUMENT_BYTES, MAX_IMAGE_PIXELS};

#[cfg(test)]
mod tests;

/// A file that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedFile {
    /// Its type, from its bytes.
    pub kind: FileKind,
    /// Its size in bytes.
    pub size: u64,
    /// Its display name, sanitised.
    pub name: FileName,
    /// Width and height, for images.
    pub dimensions: Option<(u32, u32)>,
}

/// Checks an upload as it streams: feed each chunk before keeping it, then [`finish`]. The first
/// [`HEAD_BYTES`] are kept to decide the type; after that only a count (and, for text, a few bytes
/// of an unfinished UTF-8 character) is held, so memory stays bounded whatever is sent.
///
/// [`finish`]: FileInspector::finish
#[derive(Debug, Clone)]
pub struct FileInspector {
    claimed_name: String,
    head: Vec<u8>,
    total: u64,
    kind: Option<FileKind>,
    /// The bytes of a UTF-8 character split across chunks, for text files.
    carry: Vec<u8>,
}

impl FileInspector {
    /// Starts inspecting a file the client named `claimed_name` (used only to tell CSV from
    /// plain text, and for the display name).
    #[must_use]
    pub fn new(claimed_name: &str) -> Self {
        Self {
            claimed_name: claimed_name.to_owned(),
            head: Vec::new(),
            total: 0,
            kind: None,
            carry: Vec::new(),
        }
    }

    /// How many bytes were fed so far.
    #[must_use]
    pub fn received(&self) -> u64 {
        self.total
    }

    /// Takes the next chunk.
    ///
    /// # Errors
    /// [`FileRefusal`] as soon as the bytes so far break a rule; the caller must stop reading.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), FileRefusal> {
        self.total += chunk.len() as u64;
        let limit = self.kind.map_or(MAX_DOCUMENT_BYTES, FileKind::max_bytes);
        if self.total > limit {
            return Err(FileRefusal::TooLarge { max_bytes: limit });
        }
        match self.kind {
            None => {
                let room = HEAD_BYTES - self.head.len();
                let (into_head, rest) = chunk.split_at(room.min(chunk.len()));
                self.head.extend_from_slice(into_head);
                if self.head.len() == HEAD_BYTES {
                    let kind = sniff(&self.head, false, &self.claimed_name)?;
                    self.kind = Some(kind);
                    if self.total > kind.max_bytes() {
                        return Err(FileRefusal::TooLarge {
                            max_bytes: kind.max_bytes(),
                        });
                    }
                    if is_text(kind) {
                        self.carry = utf8_tail(&self.head)?.to_vec();
                        self.check_text(rest)?;
                    }
                }
                Ok(())
            }
            Some(kind) if is_text(kind) => self.check_text(chunk),
            Some(_) => Ok(()),
        }
    }

    /// Ends the file and gives the verdict.
    ///
    /// # Errors
    /// [`FileRefusal`] naming the rule the whole file broke.
    pub fn finish(self) -> Result<InspectedFile, FileRefusal> {
        if self.total == 0 {
            return Err(FileRefusal::Empty);
        }
        let kind = match self.kind {
            Some(kind) => {
                if is_text(kind) && !self.carry.is_empty() {
                    // The file ends inside a character.
                    return Err(FileRefusal::UnsupportedType);
                }
                kind
            }
            None => sniff(&self.head, true, &self.claimed_name)?,
        };
        if self.total > kind.max_bytes() {
            return Err(FileRefusal::TooLarge {
                max_bytes: kind.max_bytes(),
            });
        }
        let dimensions = if kind.is_image() {
            let (width, height) = image_dimensions(kind, &self.head)?;
            if width == 0 || height == 0 {
                return Err(FileRefusal::UnreadableImage);
            }
            if u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS {
                return Err(FileRefusal::TooManyPixels {
                    max_pixels: MAX_IMAGE_PIXELS,
                });
            }
            Some((width, height))
        } else {
            None
        };
        Ok(InspectedFile {
            kind,
            size: self.total,
            name: FileName::sanitize(&self.claimed_name, kind),
            dimensions,
        })
    }

    fn check_text(&mut self, chunk: &[u8]) -> Result<(), FileRefusal> {
        if chunk.is_empty() {
            return Ok(());
        }
        let mut joined = std::mem::take(&mut self.carry);
        joined.extend_from_slice(chunk);
        if joined.contains(&0) {
            return Err(FileRefusal::UnsupportedType);
        }
        self.carry = utf8_tail(&joined)?.to_vec();
        Ok(())
    }
}

fn is_text(kind: FileKind) -> bool {
    matches!(kind, FileKind::Txt | FileKind::Csv)
}
