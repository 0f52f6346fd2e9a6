package rest2

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"

	"github.com/rtbridge/rtbridge/rtapi"
)

// withAttachments returns the body for doc plus files: base64 inside the JSON
// while the files are small, else multipart (field JSON, one part named
// Attachments per file) so a big file is streamed instead of inflated by a
// third and held in memory. Files are read again on every attempt.
func (cl *Client) withAttachments(doc map[string]any, atts []rtapi.Attachment) (body, error) {
	if len(atts) == 0 {
		return jsonBody(doc)
	}
	for i, a := range atts {
		if a.Open == nil {
			return nil, fmt.Errorf("attachment %d (%q) has no Open", i+1, a.Name)
		}
	}
	small, err := readSmall(atts, cl.mpOver)
	if err != nil {
		return nil, err
	}
	if small != nil {
		list := make([]map[string]string, len(atts))
		for i, a := range atts {
			list[i] = map[string]string{"FileName": fileName(a, i), "FileType": a.MIMEType(),
				"FileContent": base64.StdEncoding.EncodeToString(small[i])}
		}
		doc["Attachments"] = list
		return jsonBody(doc)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return func() (io.Reader, string, error) { return multipartBody(js, atts) }, nil
}

// readSmall reads every file when together they are at most limit bytes;
// nil (and no error) when they are larger.
func readSmall(atts []rtapi.Attachment, limit int64) ([][]byte, error) {
	out := make([][]byte, len(atts))
	left := limit
	for i, a := range atts {
		rc, err := a.Open()
		if err != nil {
			return nil, fmt.Errorf("attachment %q: %w", a.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, left+1))
		_ = rc.Close()
		if err != nil {
			return nil, fmt.Errorf("attachment %q: %w", a.Name, err)
		}
		left -= int64(len(b))
		if left < 0 {
			return nil, nil
		}
		out[i] = b
	}
	return out, nil
}

// multipartBody streams the parts through a pipe.
func multipartBody(js []byte, atts []rtapi.Attachment) (io.Reader, string, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			if err := mw.WriteField("JSON", string(js)); err != nil {
				return err
			}
			for i, a := range atts {
				h := textproto.MIMEHeader{}
				h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="Attachments"; filename="%s"`, quoteName(fileName(a, i))))
				h.Set("Content-Type", a.MIMEType())
				w, err := mw.CreatePart(h)
				if err != nil {
					return err
				}
				rc, err := a.Open()
				if err != nil {
					return fmt.Errorf("attachment %q: %w", a.Name, err)
				}
				_, err = io.Copy(w, rc)
				_ = rc.Close()
				if err != nil {
					return fmt.Errorf("attachment %q: %w", a.Name, err)
				}
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType(), nil
}

// quoteName keeps a file name from breaking out of its header parameter.
func quoteName(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "").Replace(s)
}

func fileName(a rtapi.Attachment, i int) string {
	if a.Name != "" {
		return a.Name
	}
	return fmt.Sprintf("attachment-%d", i+1)
}
