"""The Browse by meaning window on the real main window, engine and a tiny model: indexing,
search order, find similar, badges and filters, one-click open, labels and the gallery."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from medgrad_desktop import RESEARCH_NOTICE
from medgrad_desktop.explain import load_model
from medgrad_desktop.qt.browse.image_grid import BADGE_ROLE, PATH_ROLE, ImageGrid
from tests.unit.test_browse_search import _direct_image_embeddings, _direct_text_embedding

pytestmark = pytest.mark.gui


@pytest.fixture
def browser(qtbot, main_window):
    window = main_window.browse_menu.show_browser()
    qtbot.waitUntil(lambda: window.predictions is not None, timeout=30_000)
    yield window
    main_window.close()
    assert not window.isVisible()  # closing the viewer closes the browse window


def _grid_names(grid):
    model = grid.grid_model
    return [e.name for e in model.entries()]


def test_search_orders_the_grid_by_direct_cosine(qtbot, browser, image_folder, tiny_model_dir):
    names = [f"case_{i:02d}.png" for i in range(1, 6)]
    assert browser.embeddings.names == names
    assert RESEARCH_NOTICE in browser.findChild(type(browser.search.status), "browseNotice").text()
    browser.search.query.setText("dark irregular blotch")
    browser.search.search_button.click()
    qtbot.waitUntil(lambda: browser.scores is not None, timeout=10_000)
    bundle = load_model(tiny_model_dir, device="cpu")
    expected = _direct_image_embeddings(bundle, image_folder, names) @ _direct_text_embedding(
        bundle, "dark irregular blotch"
    )
    assert _grid_names(browser.search.grid) == [names[i] for i in np.argsort(-expected)]
    first = browser.search.grid.grid_model.index(0)
    assert f"match {expected.max():.3f}" in first.data()


def test_one_click_opens_in_viewer_and_find_similar(qtbot, browser, main_window, image_folder):
    grid = browser.search.grid
    index = grid.grid_model.index(3)
    rect = grid.visualRect(index)
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    target = index.data(PATH_ROLE)
    assert main_window.browser.current_path() == target
    browser.search.similar_button.click()
    assert _grid_names(grid)[0] == target.name
    assert browser.search.sort_key() == "similarity"


def test_badges_sort_and_filter_by_predicted_class(qtbot, browser):
    grid = browser.search.grid
    predictions = browser.predictions
    badges = [grid.grid_model.index(r).data(BADGE_ROLE) for r in range(grid.grid_model.rowCount())]
    for name, badge in zip(_grid_names(grid), badges, strict=True):
        row = predictions.names.index(name)
        assert badge == f"{predictions.top_label(row)} {predictions.confidence[row]:.2f}"
    browser.search.set_sort_key("probability")
    shown = [predictions.names.index(n) for n in _grid_names(grid)]
    assert list(predictions.confidence[shown]) == sorted(predictions.confidence, reverse=True)
    top = int(predictions.top[0])
    browser.search.class_combo.setCurrentIndex(browser.search.class_combo.findData(top))
    assert _grid_names(grid) and all(
        predictions.top[predictions.names.index(n)] == top for n in _grid_names(grid)
    )


def test_labels_confusion_cells_and_gallery(qtbot, browser, main_window, tmp_path):
    predictions = browser.predictions
    classes = predictions.class_labels
    truth = {name: classes[(int(predictions.top[i]) + (i % 2)) % len(classes)]
             for i, name in enumerate(predictions.names)}  # fmt: skip
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text(
        "image,label\n" + "".join(f"{n},{label}\n" for n, label in truth.items()), "utf-8"
    )
    assert browser.apply_labels(csv_path)
    panel = browser.triage_panel
    table = panel.table
    counts = [[int(table.item(r, c).text().split("\n")[0]) for c in range(len(classes))]
              for r in range(len(classes))]  # fmt: skip
    assert sum(map(sum, counts)) == 5
    assert sum(counts[i][i] for i in range(len(classes))) == 3  # rows 0, 2, 4 are right
    true_index = classes.index(truth["case_02.png"])
    predicted = int(predictions.top[1])
    table.cellChosen.emit(true_index, predicted)
    assert "case_02.png" in _grid_names(panel.cell_grid)
    assert set(_grid_names(panel.wrong_grid)) == {"case_02.png", "case_04.png"}
    assert set(_grid_names(panel.right_grid)) == {"case_01.png", "case_03.png", "case_05.png"}
    assert "accuracy 60.0%" in panel.summary.text()
    browser.show()
    panel.tabs.setCurrentIndex(1)
    browser.tabs.setCurrentWidget(panel)
    qtbot.waitExposed(panel.wrong_grid)
    first = panel.wrong_grid.grid_model.index(0)
    rect = panel.wrong_grid.visualRect(first)
    qtbot.mouseClick(panel.wrong_grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert main_window.browser.current_path() == first.data(PATH_ROLE)


def test_bad_label_file_shows_a_plain_message(browser, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("image,label\ncase_01.png,wart\n", "utf-8")
    assert not browser.apply_labels(bad)
    assert "does not have: wart" in browser.triage_panel.summary.text()
    assert not browser.apply_labels(None)
    assert "no class subfolders" in browser.triage_panel.summary.text()


def test_grid_of_5000_decodes_only_painted_tiles(qtbot, tmp_path):
    from medgrad_desktop.qt.browse.image_grid import GridEntry

    grid = ImageGrid()
    qtbot.addWidget(grid)
    grid.resize(800, 600)
    requested = []
    loader = grid.grid_model._loader
    original = loader.request
    loader.request = lambda path: (requested.append(path), original(path))
    grid.set_entries(
        tmp_path, [GridEntry(f"img{i:05d}.png", f"img{i:05d}.png") for i in range(5000)]
    )
    grid.show()
    qtbot.waitExposed(grid)
    qtbot.wait(50)
    assert grid.grid_model.rowCount() == 5000
    assert 0 < len(set(requested)) < 200
    last = tmp_path / "img04999.png"
    qtbot.waitUntil(lambda: (grid.scrollToBottom(), last in requested)[1], timeout=5000)
    assert len(set(requested)) < 400
    grid.shutdown()


def test_indexing_can_be_stopped_while_it_waits_for_the_model(qtbot, browser, main_window):
    """Stop while the job waits on the busy model thread: it reports "cancelled", stops
    running at once, ends when the model is free, and never reports a result."""
    import threading

    gate = threading.Event()
    busy = main_window.engine.call_on_model_thread(lambda _bundle: gate.wait(10), urgent=True)
    finished, cancelled = [], []
    browser.job.finished.connect(lambda *args: finished.append(args))
    browser.job.cancelled.connect(lambda: cancelled.append(True))
    browser.reindex()
    assert browser.job.running
    browser.cancel_indexing()
    assert cancelled == [True] and not browser.job.running
    gate.set()
    assert busy.result(10) is True
    assert browser.job.wait(5)
    qtbot.wait(100)  # any late answer would arrive now
    assert finished == []
