/* LINE Flex Message renderer: turns a Flex message (or a bare bubble / carousel) into DOM that
 * looks like LINE's chat. Every string from the message goes in through textContent or a DOM
 * property, never as HTML: card text is whatever a user typed.
 *
 * Pixel values follow LINE's Flex documentation and its Flex Message Simulator.
 */
(function () {
  "use strict";

  // Keywords shared by spacing, margin, padding, offsets and cornerRadius.
  var STEP = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };
  var FONT = {
    xxs: 11, xs: 13, sm: 14, md: 16, lg: 19, xl: 22, xxl: 29,
    "3xl": 35, "4xl": 48, "5xl": 74,
  };
  var IMAGE = {
    xxs: 40, xs: 60, sm: 80, md: 100, lg: 120, xl: 140, xxl: 160,
    "3xl": 180, "4xl": 200, "5xl": 240,
  };
  var BORDER = { none: 0, light: 0.5, normal: 1, medium: 2, "semi-bold": 3, bold: 4 };
  var BUBBLE_WIDTH = {
    nano: 120, micro: 160, deca: 220, hecto: 241, kilo: 260, mega: 300, giga: 500,
  };
  // Block paddings [top, side, bottom] by bubble size; smaller bubbles are tighter.
  var BLOCK_PADDING = {
    nano: [10, 10, 10], micro: [10, 10, 10], deca: [11, 14, 13], hecto: [11, 14, 13],
    kilo: [13, 13, 13], mega: [20, 20, 20], giga: [20, 20, 20],
  };
  var BUTTON = {
    primary: { background: "#17C950", color: "#FFFFFF" },
    secondary: { background: "#DCDFE5", color: "#111111" },
    link: { background: "transparent", color: "#42659A" },
  };
  var TEXT_COLOR = "#111111";
  var SEPARATOR_COLOR = "#D4D6DA";

  function el(tag, className) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    return node;
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function list(value) {
    return Array.isArray(value) ? value : [];
  }

  /* A length: a keyword of `table`, "12px", "50%", or a bare number of pixels. */
  function length(value, table) {
    if (value === undefined || value === null || value === "") return null;
    if (typeof value === "number") return value + "px";
    var key = String(value);
    if (table && Object.prototype.hasOwnProperty.call(table, key)) return table[key] + "px";
    if (/^-?\d+(\.\d+)?(px|%)$/.test(key)) return key;
    return null;
  }

  function fontSize(value, fallback) {
    return length(value, FONT) || fallback + "px";
  }

  /* "4:3" -> [4, 3]; LINE's default is 1:1. */
  function ratio(value) {
    var found = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(String(value || ""));
    if (!found || !Number(found[1]) || !Number(found[2])) return [1, 1];
    return [Number(found[1]), Number(found[2])];
  }

  function actionLabel(action) {
    if (!isObject(action)) return "";
    return String(action.label || action.text || action.displayText || action.data || action.uri || "");
  }

  /* What a tap would send, for logs: "postback: data=a=1 (แสดง: ยืนยัน)". */
  function describeAction(action) {
    if (!isObject(action)) return "";
    var type = String(action.type || "?");
    if (type === "postback") {
      var shown = action.displayText || action.text;
      return "postback: data=" + String(action.data || "") + (shown ? " (แสดง: " + shown + ")" : "");
    }
    if (type === "message") return "message: " + String(action.text || "");
    if (type === "uri") return "uri: " + String(action.uri || "");
    if (type === "datetimepicker") {
      return "datetimepicker(" + String(action.mode || "") + "): data=" + String(action.data || "");
    }
    return type + ": " + actionLabel(action);
  }

  /* Makes `node` tappable for `action`; the innermost action wins (stopPropagation). */
  function bindAction(node, action, options) {
    if (!isObject(action)) return;
    node.classList.add("lf-tappable");
    node.setAttribute("role", "button");
    node.tabIndex = 0;
    node.title = describeAction(action);
    var fire = function (event) {
      event.stopPropagation();
      event.preventDefault();
      if (options && typeof options.onAction === "function") options.onAction(action, node);
    };
    node.addEventListener("click", fire);
    node.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === " ") fire(event);
    });
  }

  /* ----- shared component properties ------------------------------------------------------ */

  /* How a child sits in its parent box: flex, spacing/margin, position and offsets. */
  function placeChild(node, component, parent) {
    var horizontal = parent.horizontal;
    var style = node.style;
    var flex = component.flex;
    var hasFlex = typeof flex === "number" && flex >= 0;
    if (horizontal) {
      if (hasFlex) style.flex = flex === 0 ? "0 0 auto" : flex + " 1 0px";
      else if (component.width !== undefined) style.flex = "0 0 auto";
      else style.flex = "1 1 0px";
      style.minWidth = "0";
    } else {
      style.flex = hasFlex && flex > 0 ? flex + " 0 auto" : "0 0 auto";
    }
    var gap = null;
    if (component.margin !== undefined) gap = length(component.margin, STEP);
    else if (parent.index > 0 && parent.spacing) gap = parent.spacing;
    if (gap && component.position !== "absolute") {
      if (horizontal) style.marginInlineStart = gap;
      else style.marginTop = gap;
    }
    if (component.position === "absolute") {
      style.position = "absolute";
      style.margin = "0";
    } else if (component.position === "relative" || component.offsetTop !== undefined ||
      component.offsetStart !== undefined) {
      style.position = "relative";
    }
    var offsets = { offsetTop: "top", offsetBottom: "bottom", offsetStart: "insetInlineStart",
      offsetEnd: "insetInlineEnd" };
    Object.keys(offsets).forEach(function (key) {
      var value = length(component[key], STEP);
      if (value !== null) style[offsets[key]] = value;
    });
    if (component.alignSelf) style.alignSelf = flexAlign(component.alignSelf);
  }

  function flexAlign(value) {
    return { start: "flex-start", end: "flex-end", center: "center", top: "flex-start",
      bottom: "flex-end", baseline: "baseline", stretch: "stretch" }[value] || "";
  }

  function justify(value) {
    return { "flex-start": "flex-start", "flex-end": "flex-end", center: "center",
      "space-between": "space-between", "space-around": "space-around",
      "space-evenly": "space-evenly", start: "flex-start", end: "flex-end" }[value] || "";
  }

  function gravity(node, value) {
    var map = { top: "flex-start", center: "center", bottom: "flex-end" };
    if (map[value]) node.style.justifyContent = map[value];
  }

  /* ----- components ----------------------------------------------------------------------- */

  function renderComponent(component, parent, options) {
    var node;
    if (!isObject(component)) {
      node = placeholder("?");
    } else {
      var renderer = RENDERERS[component.type];
      node = renderer ? renderer(component, parent, options) : placeholder(component.type);
    }
    var source = isObject(component) ? component : {};
    placeChild(node, source, parent);
    settle(node, source);
    if (source.type !== "button") bindAction(node, source.action, options);
    return node;
  }

  function placeholder(type) {
    var node = el("div", "lf-unknown");
    node.textContent = "ไม่รองรับ: " + String(type);
    return node;
  }

  function renderBox(box, parent, options) {
    var layout = box.layout === "horizontal" || box.layout === "baseline" ? box.layout : "vertical";
    var node = el("div", "lf-box lf-" + layout);
    var style = node.style;
    if (box.backgroundColor) style.backgroundColor = box.backgroundColor;
    var border = length(box.borderWidth, BORDER);
    if (border) {
      style.borderStyle = "solid";
      style.borderWidth = border;
      style.borderColor = box.borderColor || "#000000";
    } else if (box.borderColor) {
      style.border = "1px solid " + box.borderColor;
    }
    var radius = length(box.cornerRadius, STEP);
    if (radius) style.borderRadius = radius;
    ["width", "height", "maxWidth", "maxHeight"].forEach(function (key) {
      var value = length(box[key]);
      if (value) style[key] = value;
    });
    var all = length(box.paddingAll, STEP);
    if (all) style.padding = all;
    [["paddingTop", "paddingTop"], ["paddingBottom", "paddingBottom"],
      ["paddingStart", "paddingInlineStart"], ["paddingEnd", "paddingInlineEnd"]].forEach(
      function (pair) {
        var value = length(box[pair[0]], STEP);
        if (value) style[pair[1]] = value;
      });
    if (box.justifyContent) style.justifyContent = justify(box.justifyContent);
    if (box.alignItems) style.alignItems = flexAlign(String(box.alignItems).replace("flex-", ""));
    if (isObject(box.background) && box.background.type === "linearGradient") {
      style.backgroundImage = gradient(box.background);
    }
    var child = { horizontal: layout !== "vertical", spacing: length(box.spacing, STEP), index: 0 };
    list(box.contents).forEach(function (component, index) {
      child.index = index;
      node.appendChild(renderComponent(component, child, options));
    });
    return node;
  }

  function gradient(background) {
    var angle = /^-?\d+(\.\d+)?deg$/.test(String(background.angle)) ? background.angle : "0deg";
    var colour = /^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/;
    var stops = [colour.test(background.startColor) ? background.startColor : "#FFFFFF"];
    if (colour.test(background.centerColor)) {
      var at = /^\d+(\.\d+)?%$/.test(String(background.centerPosition)) ? background.centerPosition : "50%";
      stops.push(background.centerColor + " " + at);
    }
    stops.push(colour.test(background.endColor) ? background.endColor : "#FFFFFF");
    return "linear-gradient(" + angle + ", " + stops.join(", ") + ")";
  }

  function styleText(node, source, fallbackSize) {
    var style = node.style;
    style.fontSize = fontSize(source.size, fallbackSize);
    if (source.color) style.color = source.color;
    if (source.weight === "bold") style.fontWeight = "bold";
    else if (source.weight === "regular") style.fontWeight = "normal";
    if (source.style === "italic") style.fontStyle = "italic";
    if (source.decoration === "underline") style.textDecoration = "underline";
    else if (source.decoration === "line-through") style.textDecoration = "line-through";
  }

  function renderText(text, parent, options) {
    var node = el("div", "lf-text");
    var line = el("p", "lf-line");
    styleText(node, text, 16);
    if (!text.color) node.style.color = TEXT_COLOR;
    if (text.wrap === true) {
      line.classList.add("lf-wrap");
      var lines = Number(text.maxLines);
      if (lines > 0) {
        line.classList.add("lf-clamp");
        line.style.webkitLineClamp = String(lines);
      }
    }
    var extra = length(text.lineSpacing);
    if (extra && text.wrap === true) line.style.lineHeight = "calc(1.4em + " + extra + ")";
    if (text.align === "center" || text.align === "end" || text.align === "start") {
      line.style.textAlign = text.align;
    }
    gravity(node, text.gravity);
    var spans = list(text.contents);
    if (spans.length) {
      spans.forEach(function (span) {
        if (!isObject(span)) return;
        var piece = el("span", "lf-span");
        if (span.type === "span") {
          styleText(piece, span, 0);
          if (!span.size) piece.style.fontSize = "";
          piece.textContent = String(span.text === undefined ? "" : span.text);
        } else {
          piece.textContent = "[" + String(span.type) + "]";
        }
        line.appendChild(piece);
      });
    } else {
      line.textContent = String(text.text === undefined ? "" : text.text);
    }
    node.appendChild(line);
    return node;
  }

  function renderButton(button, parent, options) {
    var kind = BUTTON[button.style] ? button.style : "link";
    var node = el("div", "lf-button");
    var face = el("div", "lf-button-face lf-button-" + kind);
    face.style.height = button.height === "sm" ? "40px" : "52px";
    var colours = BUTTON[kind];
    face.style.backgroundColor = kind === "link" ? "transparent" : button.color || colours.background;
    face.style.color = kind === "link" ? button.color || colours.color : colours.color;
    var label = el("span", "lf-button-label");
    label.textContent = actionLabel(button.action);
    face.appendChild(label);
    node.appendChild(face);
    gravity(node, button.gravity);
    bindAction(face, button.action, options);
    return node;
  }

  function renderImage(image, parent, options) {
    var node = el("div", "lf-image");
    var frame = el("div", "lf-image-frame");
    var size = image.size || "md";
    frame.style.width = size === "full" ? "100%" : length(size, IMAGE) || "100px";
    var shape = ratio(image.aspectRatio);
    frame.style.aspectRatio = shape[0] + " / " + shape[1];
    if (image.backgroundColor) frame.style.backgroundColor = image.backgroundColor;
    var picture = el("img", "lf-image-picture");
    picture.alt = "";
    picture.loading = "lazy";
    picture.style.objectFit = image.aspectMode === "cover" ? "cover" : "contain";
    if (typeof image.url === "string") picture.src = image.url;
    picture.addEventListener("error", function () {
      picture.style.visibility = "hidden";
      frame.classList.add("lf-image-missing");
    });
    frame.appendChild(picture);
    node.appendChild(frame);
    var align = { start: "flex-start", end: "flex-end", center: "center" }[image.align];
    node.style.alignItems = align || "center";
    gravity(node, image.gravity);
    return node;
  }

  function renderVideo(video, parent, options) {
    var node = renderImage(
      { url: video.previewUrl, size: "full", aspectRatio: video.aspectRatio, aspectMode: "cover" },
      parent, options);
    node.classList.add("lf-video");
    var play = el("div", "lf-video-play");
    play.textContent = "▶";
    node.firstChild.appendChild(play);
    return node;
  }

  function renderIcon(icon, parent, options) {
    var node = el("div", "lf-icon");
    node.style.fontSize = fontSize(icon.size, 16);
    var picture = el("img", "lf-icon-picture");
    picture.alt = "";
    picture.style.width = ratio(icon.aspectRatio)[0] / ratio(icon.aspectRatio)[1] + "em";
    if (typeof icon.url === "string") picture.src = icon.url;
    node.appendChild(picture);
    return node;
  }

  function renderSeparator(separator, parent, options) {
    var node = el("div", parent.horizontal ? "lf-separator lf-separator-v" : "lf-separator");
    node.style.borderColor = separator.color || SEPARATOR_COLOR;
    return node;
  }

  function renderFiller(filler, parent, options) {
    return el("div", "lf-filler");
  }

  function renderSpacer(spacer, parent, options) {
    var node = el("div", "lf-spacer");
    var size = length(spacer.size || "md", STEP);
    if (parent.horizontal) node.style.width = size;
    else node.style.height = size;
    return node;
  }

  var RENDERERS = {
    box: renderBox,
    text: renderText,
    button: renderButton,
    image: renderImage,
    video: renderVideo,
    icon: renderIcon,
    separator: renderSeparator,
    filler: renderFiller,
    spacer: renderSpacer,
  };

  /* The few types whose flex LINE treats differently from other components. */
  function settle(node, component) {
    if (component.type === "separator" || component.type === "spacer") node.style.flex = "0 0 auto";
    if (component.type === "icon" && component.flex === undefined) node.style.flex = "0 0 auto";
    if (component.type === "filler") {
      var flex = typeof component.flex === "number" ? component.flex : 1;
      node.style.flex = flex + " 1 0px";
    }
  }

  /* ----- containers ------------------------------------------------------------------------ */

  function renderBubble(bubble, options, inCarousel) {
    var size = BUBBLE_WIDTH[bubble.size] ? bubble.size : "mega";
    var node = el("div", "lf-bubble lf-bubble-" + size);
    node.style.width = BUBBLE_WIDTH[size] + "px";
    if (bubble.direction === "rtl") node.dir = "rtl";
    var styles = isObject(bubble.styles) ? bubble.styles : {};
    var pad = BLOCK_PADDING[size];
    var blocks = ["header", "hero", "body", "footer"].filter(function (name) {
      return isObject(bubble[name]);
    });
    blocks.forEach(function (name, index) {
      var block = el("div", "lf-block lf-" + name);
      var blockStyle = isObject(styles[name]) ? styles[name] : {};
      if (blockStyle.backgroundColor) block.style.backgroundColor = blockStyle.backgroundColor;
      if (blockStyle.separator === true && index > 0) {
        block.style.borderTop = "1px solid " + (blockStyle.separatorColor || SEPARATOR_COLOR);
      }
      var content = renderComponent(bubble[name], { horizontal: false, spacing: null, index: 0 }, options);
      content.style.marginTop = "";
      if (name !== "hero" && bubble[name].type === "box") {
        var bottom = name === "body" && blocks.indexOf("footer") > 0 ? Math.min(pad[2], 10) : pad[2];
        if (name === "footer") content.style.padding = "10px";
        else content.style.padding = pad[0] + "px " + pad[1] + "px " + bottom + "px";
        // The box's own padding properties come after the block's default.
        reapplyPadding(content, bubble[name]);
      }
      content.style.flex = "1 0 auto";
      block.appendChild(content);
      node.appendChild(block);
    });
    bindAction(node, bubble.action, options);
    return node;
  }

  function reapplyPadding(node, box) {
    var all = length(box.paddingAll, STEP);
    if (all) node.style.padding = all;
    [["paddingTop", "paddingTop"], ["paddingBottom", "paddingBottom"],
      ["paddingStart", "paddingInlineStart"], ["paddingEnd", "paddingInlineEnd"]].forEach(
      function (pair) {
        var value = length(box[pair[0]], STEP);
        if (value) node.style[pair[1]] = value;
      });
  }

  function renderCarousel(carousel, options) {
    var node = el("div", "lf-carousel");
    list(carousel.contents).forEach(function (bubble) {
      var item = isObject(bubble) && bubble.type === "bubble"
        ? renderBubble(bubble, options, true) : placeholder(isObject(bubble) ? bubble.type : "?");
      item.classList.add("lf-carousel-item");
      node.appendChild(item);
    });
    return node;
  }

  function render(message, options) {
    var node = el("div", "lf-message");
    try {
      var container = message;
      if (isObject(message) && message.type === "flex") {
        container = message.contents;
        if (typeof message.altText === "string") node.setAttribute("aria-label", message.altText);
      }
      if (isObject(container) && container.type === "bubble") {
        node.appendChild(renderBubble(container, options || {}, false));
      } else if (isObject(container) && container.type === "carousel") {
        node.classList.add("lf-message-carousel");
        node.appendChild(renderCarousel(container, options || {}));
      } else {
        node.appendChild(placeholder(isObject(container) ? container.type : typeof container));
      }
    } catch (error) {
      // A broken card must not break the chat around it.
      node.textContent = "";
      node.appendChild(placeholder("error: " + (error && error.message)));
    }
    return node;
  }

  window.LineFlex = {
    render: render,
    actionLabel: actionLabel,
    describeAction: describeAction,
  };
})();
