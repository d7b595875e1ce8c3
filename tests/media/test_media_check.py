"""`storefront media check [--fix]`: bytes without rows, and rows without bytes."""

from __future__ import annotations

from media_samples import make_image, stored_keys


def test_clean_storage_passes(client, user, login_as, upload, run_cli):
    login_as(client, user)
    assert upload(client, make_image("PNG", (500, 500))).status_code == 201

    result = run_cli("media", "check")

    assert result.exit_code == 0, result.output
    assert "0 missing, 0 orphaned, 0 unused product pictures." in result.output


def test_planted_orphan_is_found_and_removed_with_fix(
    client, user, login_as, upload, upload_folder, run_cli
):
    login_as(client, user)
    upload(client, make_image("PNG", (500, 500)))
    kept = stored_keys(upload_folder)
    orphan_key = "ab/cd/abcd" + "0" * 60
    (upload_folder / "ab" / "cd").mkdir(parents=True)
    (upload_folder / orphan_key).write_bytes(b"left behind by a crash")
    (upload_folder / ".incoming-upload-in-progress").write_bytes(b"half")

    found = run_cli("media", "check")
    assert found.exit_code == 1
    assert f"orphan: {orphan_key}" in found.output
    assert "1 orphaned" in found.output

    fixed = run_cli("media", "check", "--fix")
    assert fixed.exit_code == 0, fixed.output
    assert f"removed orphan: {orphan_key}" in fixed.output
    assert not (upload_folder / orphan_key).exists()
    assert stored_keys(upload_folder) == sorted([*kept, ".incoming-upload-in-progress"])
    assert run_cli("media", "check").exit_code == 0


def test_row_whose_bytes_are_missing_is_reported(
    client, user, login_as, upload, upload_folder, run_cli
):
    login_as(client, user)
    body = upload(client, b"precious", "note.txt", path="/api/upload").get_json()
    for key in stored_keys(upload_folder):
        (upload_folder / key).unlink()

    result = run_cli("media", "check", "--fix")

    assert result.exit_code == 1
    assert f"missing: the bytes of file {body['id']} (" in result.output
