import { createApp } from 'vue'
import App from './shell/App.vue'
import { i18n } from './i18n'
import { router } from './router'
import './shell/theme.css'

createApp(App).use(i18n).use(router).mount('#app')
