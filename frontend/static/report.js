/* The session report page works without JavaScript; this only adds the "Print or save as PDF"
   button, which needs window.print(). */
(function () {
  'use strict';

  function init() {
    const button = document.getElementById('print-report');
    if (!button || typeof window.print !== 'function') return;
    button.hidden = false;
    button.addEventListener('click', () => window.print());
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
